// A team's small app, as test/cli/adoption.test.ts installs dbproof beside it: inspections
// over HTTP from the database in DATABASE_URL (the inspections data set). GET /inspections
// reads each row's inspector with a query of its own (an N+1) unless INSPECTIONS_JOINED=1.
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
const joined = process.env.INSPECTIONS_JOINED === '1';

async function list(limit) {
  if (joined)
    return (
      await pool.query(
        'select i.id, i.site, n.name as inspector from inspections i join inspectors n on n.id = i.inspector_id order by i.id limit $1',
        [limit],
      )
    ).rows;
  const { rows } = await pool.query('select id, site, inspector_id from inspections order by id limit $1', [limit]);
  const result = [];
  for (const row of rows) {
    const inspector = await pool.query('select name from inspectors where id = $1', [row.inspector_id]);
    result.push({ id: row.id, site: row.site, inspector: inspector.rows[0]?.name });
  }
  return result;
}

const server = http.createServer(async (request, response) => {
  const url = new URL(request.url, 'http://app');
  try {
    let body;
    const byId = /^\/inspections\/(\d+)$/.exec(url.pathname);
    if (url.pathname === '/health') body = { ok: true };
    else if (url.pathname === '/inspections') body = await list(Number(url.searchParams.get('limit') ?? 20));
    else if (byId)
      body = (await pool.query('select id, site, status from inspections where id = $1', [byId[1]])).rows[0];
    if (body === undefined) {
      response.writeHead(404).end('{"error":"not found"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  } catch (error) {
    response.writeHead(500).end(JSON.stringify({ error: error.message }));
  }
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
