// The measuring client as its own process: it only sends signed requests and times them, so an
// ack is never held up by the bench's other work (the Slack stand-in answering the bot's
// response_url posts runs in the parent). Driven over IPC by RemoteClient (signedClient.ts).
import { SignedClient } from './signedClient.ts';

interface SendMessage {
  id: number;
  url: string;
  request: { kind: 'command' | 'interaction' | 'event'; body: Record<string, unknown> };
}

const secret = process.env.SLACK_SIGNING_SECRET ?? '';
const clients = new Map<string, SignedClient>();

process.on('message', (msg: SendMessage) => {
  let client = clients.get(msg.url);
  if (!client) clients.set(msg.url, (client = new SignedClient(msg.url, secret)));
  client.send(msg.request).then(
    (answer) => process.send!({ id: msg.id, ...answer }),
    (error: unknown) => process.send!({ id: msg.id, error: String(error) }),
  );
});
process.on('disconnect', () => {
  for (const c of clients.values()) c.close();
  process.exit(0);
});
