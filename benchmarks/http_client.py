"""A lean HTTP/1.1 keep-alive client on asyncio streams, for the HTTP load benchmark.

Why not httpx: on the 2-CPU machine of docs/benchmarks.md one
``httpx.AsyncClient`` with 50 pooled connections topped out at about 150
requests/s with its process at 100 % CPU (50 separate clients: about 650/s),
against a trivial route that uvicorn answers 8,000 times a second (wrk), so
the load generator, not the server, would have been measured. This client
does just what the benchmark needs (one connection per client, requests
one at a time, ``Content-Length`` or chunked answers) for a few tens of
microseconds of CPU per request. ``python -m benchmarks.http_load --client
httpx`` still drives the load with httpx for comparison.
"""

from __future__ import annotations

import asyncio


class HTTPError(Exception):
    """The request got no (complete, parsable) answer."""


class Connection:
    """One keep-alive HTTP/1.1 connection to ``host:port``, reconnected when it closes."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request, return (status, body); raise :class:`HTTPError` on failure."""
        try:
            async with asyncio.timeout(self.timeout):  # Python >= 3.11, as orm requires
                return await self._request(method, path, body)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ValueError,
            IndexError,
            TimeoutError,
        ) as exc:
            self.close()
            raise HTTPError(f"{type(exc).__name__}: {exc}") from exc

    async def _request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self._host_header
        if body is not None:
            head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        writer.write(head + b"\r\n" + (body or b""))
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = None, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers expected
                    break
                parts.append(await reader.readexactly(size + 2))
            data = b"".join(p[:-2] for p in parts)
        elif length is not None:
            data = await reader.readexactly(length)
        else:  # read to the end of the connection
            data = await reader.read()
            close = True
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def aclose(self) -> None:
        writer = self._writer
        self.close()
        if writer is not None:
            try:
                await writer.wait_closed()
            except OSError:
                pass


class HttpxConnection:
    """The same interface over one ``httpx.AsyncClient`` (``--client httpx``)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        import httpx

        self._httpx = httpx
        self._client = httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=timeout)

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        try:
            headers = {"content-type": "application/json"} if body is not None else None
            r = await self._client.request(method, path, content=body, headers=headers)
            return r.status_code, r.content
        except self._httpx.HTTPError as exc:
            raise HTTPError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


CLIENTS: dict[str, type[Connection] | type[HttpxConnection]] = {
    "raw": Connection,
    "httpx": HttpxConnection,
}
