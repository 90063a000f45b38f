// A free loopback port, for the servers worlds start (moto, the tests' git and PostgreSQL servers).
import net from 'node:net';

/** A port free right now on 127.0.0.1 (the server binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
