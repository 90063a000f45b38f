package smvbot.testhdfs;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * Starts a MiniDFSCluster for smvbot's tests: one NameNode and one DataNode, WebHDFS on loopback
 * (the NameNode's HTTP port free, picked by the kernel), in a temp dir removed at exit. When it
 * is ready it prints ONE JSON line on stdout:
 *   {"ready":true,"nameNodeHttpPort":N,"nameNodeRpcPort":N,"superuser":"root"}
 * and then runs until stdin closes (the test process died or is done): a dying test run never
 * leaves a cluster behind. Everything else (Hadoop's logging) goes to stderr.
 *
 * Arguments: --ls-limit N (dfs.ls.limit: entries per listing page; default 100, so paging past
 * one page is cheap to reach).
 */
public final class Launcher {
  public static void main(String[] args) throws Exception {
    int lsLimit = 100;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--ls-limit") && i + 1 < args.length) lsLimit = Integer.parseInt(args[++i]);
      else throw new IllegalArgumentException("unknown argument " + args[i]);
    }
    Path base = Files.createTempDirectory("smvbot-minidfs-");
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
    conf.setInt("dfs.ls.limit", lsLimit);
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.setBoolean("dfs.permissions.enabled", true);
    conf.setInt("dfs.replication", 1);
    // Small blocks would multiply DataNode work; tests write a few MB at most per file.
    conf.setLong("dfs.blocksize", 128L * 1024 * 1024);
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    // The temp dir keeps the process umask; the DataNode must not refuse it.
    conf.set("dfs.datanode.data.dir.perm", "700");
    // Fewer background threads: the suite shares two cores.
    conf.setInt("dfs.namenode.handler.count", 4);
    conf.setInt("dfs.datanode.handler.count", 2);

    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, base.toFile())
        .numDataNodes(1)
        .nameNodeHttpPort(0)
        .nameNodePort(0)
        .format(true)
        .build();
    cluster.waitActive();
    Runnable stop = () -> {
      try {
        cluster.shutdown();
      } catch (Throwable ignored) {
        // exiting anyway
      }
      deleteTree(base);
    };
    Runtime.getRuntime().addShutdownHook(new Thread(stop));

    int httpPort = cluster.getNameNode().getHttpAddress().getPort();
    int rpcPort = cluster.getNameNodePort();
    String superuser = System.getProperty("user.name");
    System.out.println("{\"ready\":true,\"nameNodeHttpPort\":" + httpPort + ",\"nameNodeRpcPort\":" + rpcPort
        + ",\"superuser\":\"" + superuser.replace("\"", "") + "\"}");
    System.out.flush();

    // Run until stdin closes.
    InputStream in = System.in;
    byte[] buf = new byte[256];
    try {
      while (in.read(buf) >= 0) {
        // ignore input
      }
    } catch (IOException ignored) {
      // closed
    }
    System.exit(0);
  }

  private static void deleteTree(Path base) {
    try (Stream<Path> paths = Files.walk(base)) {
      paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException ignored) {
      // best effort
    }
  }
}
