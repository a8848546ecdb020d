"""The alternative the web server was measured against (docs/decisions.md, section 3): the same
app under waitress with BENCH_WAITRESS_THREADS threads (64). Only for bench/concurrency.py with
FIELDSYNC_BENCH_WEB=waitress; needs `pip install waitress` (no longer a dependency)."""
import os

from waitress import serve

from server.app import create_app
from server.config import Settings

if __name__ == "__main__":
    settings = Settings.from_env()
    serve(create_app(settings), host=settings.http_host, port=settings.http_port,
          threads=int(os.environ.get("BENCH_WAITRESS_THREADS", "64")), channel_timeout=120,
          connection_limit=settings.max_connections, ident="fieldsync-bench")
