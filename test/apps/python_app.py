"""A small app in another language and driver (Python, psycopg2) for the black-box
N+1 tests: dbproof sees its queries only from the database's side.

  DATABASE_URL=postgres://… PORT=0 /usr/bin/python3 python_app.py
"""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import psycopg2

connection = psycopg2.connect(os.environ["DATABASE_URL"])
connection.autocommit = True


def rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def inspections_per_row(limit):
    # N+1: the inspector of each inspection, one query per row.
    result = []
    for inspection_id, site, inspector_id in rows("SELECT id, site, inspector_id FROM inspections ORDER BY id LIMIT %s", (limit,)):
        name = rows("SELECT name FROM inspectors WHERE id = %s", (inspector_id,))[0][0]
        result.append({"id": inspection_id, "site": site, "inspector": name})
    return result


def inspections_joined(limit):
    return [
        {"id": i, "site": s, "inspector": n}
        for i, s, n in rows(
            "SELECT i.id, i.site, p.name FROM inspections i JOIN inspectors p ON p.id = i.inspector_id ORDER BY i.id LIMIT %s", (limit,)
        )
    ]


ROUTES = {"/inspections": inspections_per_row, "/inspections-joined": inspections_joined}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        route = ROUTES.get(url.path)
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        limit = int(parse_qs(url.query).get("limit", ["10"])[0])
        body = json.dumps(route(limit)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
print(f"python app listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
