"""What the test proxies share: relaying an upstream answer's body as it arrives."""
from __future__ import annotations


def relay_chunked(answer, wfile) -> None:
    """Send `answer`'s body on `wfile` in HTTP chunked encoding, chunk by chunk as it arrives
    (feeds stream), then the last chunk. The caller has sent `Transfer-Encoding: chunked`."""
    while True:
        chunk = answer.read1(65536)
        if not chunk:
            break
        wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        wfile.flush()
    wfile.write(b"0\r\n\r\n")
