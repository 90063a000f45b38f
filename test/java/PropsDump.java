import java.io.File;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Test oracle: loads every regular file of the given directories with
 * java.util.Properties.load(Reader) (UTF-8, as SMV's SmvConfig does) and prints one JSON
 * object per file, in directory-then-name order:
 *   {"file":"<path>","ok":true,"props":{"<key>":"<value>",...}}   keys sorted
 *   {"file":"<path>","ok":false,"error":"<exception message>"}
 * Output is pure ASCII: every character outside 0x20..0x7e is written as a JSON \\uXXXX escape.
 */
public class PropsDump {
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, false, "US-ASCII");
    StringBuilder sb = new StringBuilder();
    for (String dir : args) {
      File[] files = new File(dir).listFiles(File::isFile);
      if (files == null) throw new IllegalArgumentException("not a directory: " + dir);
      Arrays.sort(files, (a, b) -> a.getName().compareTo(b.getName()));
      for (File file : files) {
        sb.setLength(0);
        sb.append("{\"file\":");
        json(sb, file.getPath());
        Properties props = new Properties();
        try (Reader reader = new InputStreamReader(new FileInputStream(file), StandardCharsets.UTF_8)) {
          props.load(reader);
          TreeMap<String, String> sorted = new TreeMap<>();
          for (String key : props.stringPropertyNames()) sorted.put(key, props.getProperty(key));
          sb.append(",\"ok\":true,\"props\":{");
          boolean first = true;
          for (var e : sorted.entrySet()) {
            if (!first) sb.append(',');
            first = false;
            json(sb, e.getKey());
            sb.append(':');
            json(sb, e.getValue());
          }
          sb.append("}}");
        } catch (IllegalArgumentException e) {
          sb.append(",\"ok\":false,\"error\":");
          json(sb, String.valueOf(e.getMessage()));
          sb.append('}');
        }
        out.println(sb);
      }
    }
    out.flush();
  }

  private static void json(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') sb.append('\\').append(c);
      else if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
      else sb.append(c);
    }
    sb.append('"');
  }
}
