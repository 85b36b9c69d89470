#!/usr/bin/python3
"""A non-browser WebRTC client for the tests: WHIP publish or WHEP play with Debian's python3-aiortc.

    aiortc-client.py whip <url> <stream key> [--codec h264|vp8] [--seconds N]
    aiortc-client.py whep <url> [--frames N] [--seconds N]

It speaks one JSON object per line on stdout, so a test can await events instead of sleeping:
  {"event": "answer", "status": 201, "location": "/whip/..."}
  {"event": "connected", "local": {...}, "remote": {...}}   the nominated ICE pair (addresses used)
  {"event": "frames", "count": n, "width": w, "height": h}  WHEP: decoded video frames (1st, then every 30)
  {"event": "done", ...} | {"event": "error", "message": "..."}
A publisher sends until --seconds pass, stdin closes or SIGTERM comes, then DELETEs its session.
Unlike a browser, aiortc's ICE agent (aioice) only pairs with the addresses in the answer and checks
that a response comes from the address it sent to, so an answer announcing 0.0.0.0 fails here.
"""
import argparse
import asyncio
import fractions
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy
from av import VideoFrame
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.rtcrtpsender import RTCRtpSender


def emit(event, **fields):
    """One JSON line on stdout, flushed (the test reads it as it comes)."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class MovingBars(VideoStreamTrack):
    """320x180 at 30 fps, a bar that moves every frame: the encoder has real motion to code."""

    def __init__(self, width=320, height=180):
        super().__init__()
        self.width, self.height, self.n = width, height, 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = numpy.zeros((self.height, self.width, 3), numpy.uint8)
        img[:, :, 1] = 60
        x = (self.n * 4) % self.width
        img[:, x:x + 24, :] = 230
        self.n += 1
        frame = VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def http(method, url, body=None, headers=None, timeout=15):
    """A blocking HTTP call (run in the executor): status, headers and body text."""
    req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, dict(res.headers), res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def nominated_pair(pc):
    """The ICE pair aioice nominated (private API of aiortc 1.4/aioice 0.8: this is a test tool)."""
    for t in pc.getTransceivers():
        transport = (t.sender or t.receiver).transport
        conn = getattr(getattr(transport, "transport", None), "_connection", None)
        pairs = getattr(conn, "_nominated", {}) if conn else {}
        for pair in pairs.values():
            local, remote = pair.local_candidate, pair.remote_candidate
            return {"host": local.host, "port": local.port, "protocol": local.transport}, {"host": remote.host, "port": remote.port, "protocol": remote.transport}
    return None, None


async def negotiate(pc, url, headers, deadline):
    """Offers (all candidates gathered: no trickle), POSTs it, applies the answer, awaits ICE+DTLS connected."""
    connected = asyncio.get_running_loop().create_future()

    @pc.on("connectionstatechange")
    def on_state():
        emit("state", state=pc.connectionState)
        if pc.connectionState == "connected" and not connected.done():
            connected.set_result(True)
        if pc.connectionState == "failed" and not connected.done():
            connected.set_exception(RuntimeError("connection failed (ICE or DTLS)"))

    await pc.setLocalDescription(await pc.createOffer())
    loop = asyncio.get_running_loop()
    status, res_headers, body = await loop.run_in_executor(None, http, "POST", url, pc.localDescription.sdp, {"content-type": "application/sdp", **headers})
    location = res_headers.get("Location") or res_headers.get("location")
    emit("answer", status=status, location=location)
    if status != 201:
        raise RuntimeError(f"POST {url}: {status} {body[:300]}")
    candidates = [line for line in body.split("\r\n") if line.startswith("a=candidate:")]
    emit("candidates", lines=candidates)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    await asyncio.wait_for(connected, max(1, deadline - time.monotonic()))
    local, remote = nominated_pair(pc)
    emit("connected", local=local, remote=remote)
    return urllib.parse.urljoin(url, location) if location else None


async def stop_signal():
    """Resolves on SIGTERM/SIGINT or when stdin closes (the test process went away)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: done.done() or done.set_result(True))

    def watch_stdin():
        sys.stdin.read()
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(True))

    # A daemon thread, not the executor: asyncio.run would wait for a blocked read at exit.
    threading.Thread(target=watch_stdin, daemon=True).start()
    return done


async def whip(args):
    """Publishes generated video (and aiortc's silent audio) with the stream key as Bearer token."""
    pc = RTCPeerConnection()
    session = None
    try:
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        video = pc.addTransceiver(MovingBars(), direction="sendonly")
        mime = "video/H264" if args.codec == "h264" else "video/VP8"
        codecs = RTCRtpSender.getCapabilities("video").codecs
        video.setCodecPreferences([c for c in codecs if c.mimeType == mime] + [c for c in codecs if c.mimeType == "video/rtx"])
        deadline = time.monotonic() + args.connect_timeout
        session = await negotiate(pc, args.url, {"authorization": f"Bearer {args.key}"}, deadline)
        stopped = await stop_signal()
        try:
            await asyncio.wait_for(stopped, args.seconds)
        except asyncio.TimeoutError:
            pass
        emit("done", connectionState=pc.connectionState)
    finally:
        if session:
            status, _, _ = await asyncio.get_running_loop().run_in_executor(None, http, "DELETE", session, None, {"authorization": f"Bearer {args.key}"})
            emit("deleted", status=status)
        await pc.close()


async def whep(args):
    """Plays a stream: recvonly audio and video; counts decoded video frames."""
    pc = RTCPeerConnection()
    session = None
    frames = {"count": 0}
    enough = asyncio.get_running_loop().create_future()

    async def count(track):
        while True:
            frame = await track.recv()
            frames["count"] += 1
            n = frames["count"]
            if n == 1 or n % 30 == 0:
                emit("frames", count=n, width=frame.width, height=frame.height)
            if n >= args.frames and not enough.done():
                enough.set_result(True)

    @pc.on("track")
    def on_track(track):
        if track.kind == "video":
            asyncio.ensure_future(count(track))

    try:
        pc.addTransceiver("audio", direction="recvonly")
        pc.addTransceiver("video", direction="recvonly")
        deadline = time.monotonic() + args.connect_timeout
        session = await negotiate(pc, args.url, {}, deadline)
        await asyncio.wait_for(enough, args.seconds)
        emit("done", frames=frames["count"])
    finally:
        if session:
            await asyncio.get_running_loop().run_in_executor(None, http, "DELETE", session, None, {})
        await pc.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["whip", "whep"])
    p.add_argument("url")
    p.add_argument("key", nargs="?", default="")
    p.add_argument("--codec", choices=["h264", "vp8"], default="h264")
    p.add_argument("--seconds", type=float, default=60, help="whip: publish this long at most; whep: wait this long for --frames")
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--connect-timeout", type=float, default=20)
    args = p.parse_args()
    try:
        asyncio.run(whip(args) if args.mode == "whip" else whep(args))
    except Exception as err:  # the test reads the reason; the exit status says it failed
        emit("error", message=f"{type(err).__name__}: {err}")
        sys.exit(1)


if __name__ == "__main__":
    main()
