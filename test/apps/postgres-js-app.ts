// A small app on another Node driver (postgres.js, not node-postgres) for the black-box
// N+1 tests: in-process capture cannot see it, the database can.
import http from 'node:http';
import postgres from 'postgres';

const sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });

async function mediaPerItem(inspectionId: number, items: number) {
  const list =
    await sql`SELECT id FROM checklist_items WHERE inspection_id = ${inspectionId} ORDER BY position LIMIT ${items}`;
  const result = [];
  for (const item of list)
    result.push({ item: item.id, media: await sql`SELECT id, url FROM media WHERE checklist_item_id = ${item.id}` });
  return result;
}

async function mediaBatched(inspectionId: number, items: number) {
  const list =
    await sql`SELECT id FROM checklist_items WHERE inspection_id = ${inspectionId} ORDER BY position LIMIT ${items}`;
  return sql`SELECT id, url, checklist_item_id FROM media WHERE checklist_item_id IN ${sql(list.map((r) => r.id))}`;
}

const server = http.createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const match = /^\/inspections\/(\d+)\/(media|media-batched)$/.exec(url.pathname);
  if (!match) return void response.writeHead(404).end();
  const items = Number(url.searchParams.get('items') ?? 10);
  const body =
    match[2] === 'media' ? await mediaPerItem(Number(match[1]), items) : await mediaBatched(Number(match[1]), items);
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`postgres.js app listening on http://127.0.0.1:${(server.address() as { port: number }).port}`);
});
