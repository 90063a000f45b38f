// `GET /healthz` (SPEC §4): the health rule's status and JSON body; a rule that throws is a 503.

export interface HealthReport {
  status: number;
  body: object;
}

export function healthRoute(health: () => Promise<HealthReport>) {
  return {
    method: 'GET' as const,
    path: '/healthz',
    async handle() {
      try {
        const { status, body } = await health();
        return { status, body: JSON.stringify(body) };
      } catch (error) {
        return { status: 503, body: JSON.stringify({ ok: false, problems: [{ kind: 'health-check', detail: String((error as Error).message ?? error) }] }) };
      }
    },
  };
}
