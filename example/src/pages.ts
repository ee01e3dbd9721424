/**
 * A page of the reference app, for dbproof's Playwright fixture: the inspections list as a
 * browser renders it. The batched page makes one API call (the list has each row's status);
 * the per-item variant (`EXAMPLE_PAGE_BATCHED=off`, or EXAMPLE_NAIVE=1) fetches the list,
 * then each row's status one by one: the front-end N+1, one request and one query per row.
 */
export function inspectionsPage(limit: number, batched: boolean, nonce: string): string {
  const script = batched
    ? `const rows = await (await fetch('/inspections-joined?limit=' + limit)).json();
       render(rows);`
    : `const rows = await (await fetch('/inspections-joined?limit=' + limit)).json();
       for (const row of rows) row.status = (await (await fetch('/inspections/' + row.id + '/status')).json()).status;
       render(rows);`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Inspections</title><link rel="icon" href="data:,"></head>
<body>
<h1>Inspections</h1>
<table id="inspections"><thead><tr><th>site</th><th>inspector</th><th>status</th></tr></thead><tbody></tbody></table>
<script type="module" nonce="${nonce}">
const limit = ${limit};
const cell = (text) => { const td = document.createElement('td'); td.textContent = text; return td; };
function render(rows) {
  const body = document.querySelector('#inspections tbody');
  for (const row of rows) {
    const tr = document.createElement('tr');
    tr.append(cell(row.site), cell(row.inspector), cell(row.status));
    body.append(tr);
  }
  document.body.dataset.loaded = String(rows.length);
}
${script}
</script>
</body></html>
`;
}
