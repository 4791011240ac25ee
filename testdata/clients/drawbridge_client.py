#!/usr/bin/python3
"""Independent XMPP client that walks through Drawbridge's sandbox demo.

It uses slixmpp (Debian's python3-slixmpp; run it with /usr/bin/python3) and
knows nothing of Drawbridge's code: it only speaks XMPP to a server.

    /usr/bin/python3 testdata/clients/drawbridge_client.py \
        --jid demo@localhost --password demo --server 127.0.0.1:5222 \
        --gateway gw.localhost --phone +15557654321 \
        --contact +15550000001@gw.localhost --transcript

Steps: connect (plaintext, no DNS), send presence, accept subscription
requests from the gateway's domain, send "link" and the phone number to the
gateway, wait for "is now linked", then send each --message to the contact
(with an XEP-0184 receipt request) and wait for "echo: <message>".

--mode demo     the steps above.
--mode interop  also requires a receipt for every sent message, a disco#info
                identity of category "gateway", the contact present as clients
                are (from a full JID, with XEP-0115 caps that slixmpp verifies)
                and its answers from a full JID carrying <active/> (XEP-0085);
                prints a final JSON line
                {"ok": ..., "sent": N, "echoed": N, "receipts": N, "caps_verified": B,
                 "replies_full_jid": N, "replies_active": N}.

--page URL       also plays a person on the sandbox platform's web page at URL
                (its JSON API, as the page's script does): --page-as (Alice by
                default) writes to the linked phone from the page, the client
                waits for that message from her contact JID and answers, and
                the answer must show in her chat on the page.

Exit status: 0 when everything expected arrived, 1 otherwise (what was missing
is printed), 2 on bad arguments. Every wait is bounded by --step-timeout and
the whole run by --timeout.
"""

import argparse
import asyncio
import json
import logging
import sys
import traceback
import urllib.parse
import urllib.request

logging.getLogger("slixmpp.stringprep").setLevel(logging.ERROR)  # "slower stringprep" notice

import slixmpp  # noqa: E402
from slixmpp.exceptions import IqError, IqTimeout

DEFAULT_MESSAGES = ["Hello from an independent XMPP client", "Second message: ok?"]


class Failure(Exception):
    """An expected reply did not arrive."""


class DemoClient(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.gateway = slixmpp.JID(args.gateway)
        self.contact = slixmpp.JID(args.contact)
        self.deadline = None  # loop time at which the whole run must end (set by main)
        self.result = None  # (ok, summary dict, missing list)
        self.summary = {"sent": 0, "echoed": 0, "receipts": 0, "composing": 0}
        self.done = self.loop.create_future()
        self.session_started = False

        # Received events, in order: dicts with kind, from (bare JID string), ...
        self.events = []
        self.changed = asyncio.Event()

        # Server without STARTTLS on loopback: allow PLAIN over plaintext.
        self.register_plugin("feature_mechanisms", {"unencrypted_plain": True})
        self.register_plugin("xep_0030")  # service discovery
        self.register_plugin("xep_0085")  # chat state notifications
        self.register_plugin("xep_0115")  # entity capabilities: verifies what contacts advertise
        self.register_plugin("xep_0172")  # user nickname (in subscribe requests)
        self.register_plugin("xep_0184", {"auto_ack": True, "auto_request": False})
        self.register_plugin("xep_0199")  # answer pings

        # Decide on each subscription request ourselves (see on_subscribe).
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False

        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("message_error", self.on_message_error)
        self.add_event_handler("receipt_received", self.on_receipt)
        self.add_event_handler("chatstate", self.on_chatstate)
        self.add_event_handler("presence_subscribe", self.on_subscribe)
        self.add_event_handler("roster_update", self.on_roster_update)
        self.add_event_handler("presence_available", self.on_available)
        self.add_event_handler("failed_auth", lambda _: self.finish_early("authentication failed"))
        self.add_event_handler("no_auth", lambda _: self.finish_early("no usable SASL mechanism"))
        self.add_event_handler("connection_failed", self.on_connection_failed)
        self.add_event_handler("disconnected", self.on_disconnected)

    # ---- transcript -------------------------------------------------------

    def say(self, line):
        if self.args.transcript:
            print(line.replace("\r", "").replace("\n", " | "), flush=True)

    def record(self, **event):
        self.events.append(event)
        self.changed.set()

    # ---- incoming ---------------------------------------------------------

    def on_message(self, msg):  # messages with a body
        if msg["type"] == "error":
            return  # a bounce: reported by on_message_error
        frm = msg["from"].bare
        self.say("<< from %s: %s" % (frm, msg["body"]))
        self.record(kind="body", frm=frm, body=msg["body"], resource=msg["from"].resource,
                    state=msg["chat_state"])

    def on_message_error(self, msg):
        frm = msg["from"].bare
        err = msg["error"]
        text = err["condition"] + ((": " + err["text"]) if err["text"] else "")
        self.say("<< from %s: [error %s, for message id %s]" % (frm, text, msg["id"] or "-"))
        self.record(kind="error", frm=frm, text=text)

    def on_receipt(self, msg):  # XEP-0184 <received id=.../>
        frm = msg["from"].bare
        self.say("<< from %s: [receipt for id %s]" % (frm, msg["receipt"]))
        self.record(kind="receipt", frm=frm, id=msg["receipt"])

    def on_chatstate(self, msg):  # XEP-0085
        if msg["type"] == "error":
            return
        frm = msg["from"].bare
        self.say("<< from %s: [%s]" % (frm, msg["chat_state"]))
        self.record(kind="chatstate", frm=frm, state=msg["chat_state"])

    def on_available(self, pres):
        frm = pres["from"]
        if frm.domain != self.gateway.domain:
            return
        ver = pres["caps"]["ver"] if pres.get_plugin("caps", check=True) is not None else ""
        self.say("<< from %s: [available%s]" % (frm.full, ", caps " + ver if ver else ""))
        self.record(kind="available", frm=frm.bare, full=frm.full, ver=ver)

    def on_subscribe(self, pres):
        frm = pres["from"]
        nick = pres["nick"]["nick"]
        self.say("<< from %s: [subscription request%s]" % (frm.bare, (', nick "%s"' % nick) if nick else ""))
        if frm.domain == self.gateway.domain:
            self.send_presence(pto=frm.bare, ptype="subscribed")
            self.send_presence(pto=frm.bare, ptype="subscribe")
            self.say(">> to %s: [subscribed, subscribe]" % frm.bare)
            self.record(kind="subscribe", frm=frm.bare, nick=nick)

    def on_roster_update(self, iq):  # roster pushes (XEP-0356 privileged gateway)
        for jid, item in iq["roster"]["items"].items():
            if slixmpp.JID(jid).domain != self.gateway.domain or item["subscription"] == "remove":
                continue
            self.say('<< roster: %s as "%s"' % (jid, item["name"]))
            self.record(kind="roster", jid=str(jid), name=item["name"])

    def on_connection_failed(self, err):
        logging.debug("connection failed: %s", err)
        self.say("-- connection to %s failed: %s (retrying)" % (self.args.server, err))

    def on_disconnected(self, reason):
        if not self.done.done():
            self.finish_early("disconnected: %s" % (reason or "connection closed"))

    def finish_early(self, why):
        if self.result is None:
            self.result = (False, self.summary, [why])
        if not self.done.done():
            self.done.set_result(None)

    # ---- waiting ----------------------------------------------------------

    def remaining(self):
        return self.deadline - self.loop.time()

    async def wait_for(self, what, predicate, since, frm=None, timeout=None):
        """Wait until some event at index >= since satisfies predicate.

        Returns the event. Raises Failure on timeout or when an error from
        `frm` arrives first.
        """
        limit = self.loop.time() + min(timeout or self.args.step_timeout, max(self.remaining(), 0))
        while True:
            for ev in self.events[since:]:
                if predicate(ev):
                    return ev
                if frm is not None and ev["kind"] == "error" and ev["frm"] == frm:
                    raise Failure("%s: got an error from %s instead (%s)" % (what, frm, ev["text"]))
            left = limit - self.loop.time()
            if left <= 0:
                raise Failure("%s: nothing within the time limit" % what)
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def body_from(self, jid, *needles):
        needles = [n.lower() for n in needles]
        return lambda ev: (ev["kind"] == "body" and ev["frm"] == jid
                           and any(n in ev["body"].lower() for n in needles))

    def send_chat(self, to, body, receipt=False):
        msg = self.make_message(mto=to, mbody=body, mtype="chat")
        msg["id"] = self.new_id()
        if receipt:
            msg["request_receipt"] = True
        msg.send()
        self.say(">> to %s: %s" % (to, body))
        return msg["id"]

    # ---- the scenario -----------------------------------------------------

    async def on_session_start(self, _):
        self.session_started = True
        try:
            self.result = await self.scenario()
        except Failure as exc:
            self.result = (False, self.summary, [str(exc)])
        except Exception as exc:  # report, never hang
            traceback.print_exc()
            self.result = (False, self.summary, ["client error: %r" % exc])
        if not self.done.done():
            self.done.set_result(None)

    async def gateway_identities(self, require):
        """disco#info on the gateway, retried while the server says it is not there."""
        limit = self.loop.time() + min(self.args.step_timeout, max(self.remaining(), 0))
        while True:
            try:
                iq = await self["xep_0030"].get_info(jid=self.gateway, cached=False,
                                                     timeout=max(1, min(10, limit - self.loop.time())))
                return [ident[0] for ident in iq["disco_info"]["identities"]]
            except IqError as exc:
                cond = exc.iq["error"]["condition"]
                if cond in ("service-unavailable", "remote-server-not-found",
                            "remote-server-timeout", "recipient-unavailable") \
                        and limit - self.loop.time() > 1:
                    await asyncio.sleep(1)
                    continue
                if require:
                    raise Failure("disco#info on %s: error %s" % (self.gateway, cond))
                return []
            except IqTimeout:
                if require:
                    raise Failure("disco#info on %s: no answer" % self.gateway)
                return []

    async def scenario(self):
        a = self.args
        gw = self.gateway.bare
        contact = self.contact.bare
        missing = []

        self.send_presence()
        await self.get_roster(timeout=min(10, self.remaining()))

        # The gateway must be reachable (the component may still be connecting).
        categories = await self.gateway_identities(require=(a.mode == "interop"))
        if a.mode == "interop":
            self.say("-- disco#info %s: identity categories %s" % (gw, ", ".join(categories) or "none"))
            if "gateway" not in categories:
                missing.append("disco#info identity category 'gateway' on %s" % gw)

        # Link dialogue (chat-command fallback).
        mark = len(self.events)
        self.send_chat(gw, "link")
        ev = await self.wait_for('reply to "link" asking for the phone number',
                                 self.body_from(gw, "Reply with your phone number", "already linked"),
                                 mark, frm=gw)
        if "already linked" in ev["body"].lower():
            self.say("-- already linked, skipping the pairing")
        else:
            mark = len(self.events)
            self.send_chat(gw, a.phone)
            await self.wait_for("pairing code (\"Code: ...\")", self.body_from(gw, "Code:"), mark, frm=gw)
            await self.wait_for('"is now linked"', self.body_from(gw, "is now linked"), mark, frm=gw)

        # Chat with the echo bot, one message at a time.
        sent_ids = []
        for text in a.message:
            mark = len(self.events)
            sent_ids.append(self.send_chat(contact, text, receipt=True))
            self.summary["sent"] += 1
            expected = "echo: " + text
            await self.wait_for('"%s" from %s' % (expected, contact),
                                lambda ev, e=expected: ev["kind"] == "body" and ev["frm"] == contact
                                and e in ev["body"], mark, frm=contact)
            self.summary["echoed"] += 1

        if a.page:
            await self.through_the_page(missing)

        def receipts_for():
            got = {ev["id"] for ev in self.events if ev["kind"] == "receipt" and ev["frm"] == contact}
            return [i for i in sent_ids if i in got]

        if a.mode == "interop":
            # Receipts come before the echo; still allow stragglers a moment.
            limit = self.loop.time() + min(5, max(self.remaining(), 0))
            while len(receipts_for()) < len(sent_ids) and self.loop.time() < limit:
                await asyncio.sleep(0.1)
        self.summary["receipts"] = len(receipts_for())
        self.summary["receipts_other"] = sum(1 for ev in self.events if ev["kind"] == "receipt"
                                             and ev["frm"] == contact and ev["id"] not in sent_ids)
        self.summary["composing"] = sum(1 for ev in self.events if ev["kind"] == "chatstate"
                                        and ev["frm"] == contact and ev["state"] == "composing")
        if a.mode == "interop":
            # The contact is present from a full JID with caps, which
            # slixmpp's XEP-0115 plugin checks against disco#info on
            # node#ver (it keeps the ver only when the hash verifies).
            pres = [ev for ev in self.events if ev["kind"] == "available" and ev["frm"] == contact]
            self.summary["caps_verified"] = False
            if not pres or "/" not in pres[-1]["full"] or not pres[-1]["ver"]:
                missing.append("available presence from a full JID of %s with caps (got %s)" % (
                    contact, ", ".join(ev["full"] for ev in pres) or "none"))
            else:
                full, ver = pres[-1]["full"], pres[-1]["ver"]
                limit = self.loop.time() + min(self.args.step_timeout, max(self.remaining(), 0))
                while self.loop.time() < limit:
                    if str(await self["xep_0115"].get_verstring(full)) == ver:
                        self.summary["caps_verified"] = True
                        break
                    await asyncio.sleep(0.1)
                if not self.summary["caps_verified"]:
                    missing.append("caps of %s (ver %s) that verify" % (full, ver))
            echoes = [ev for ev in self.events if ev["kind"] == "body" and ev["frm"] == contact
                      and ev["body"].startswith("echo: ")]
            self.summary["replies_full_jid"] = sum(1 for ev in echoes if ev["resource"])
            self.summary["replies_active"] = sum(1 for ev in echoes if ev["state"] == "active")
            if self.summary["replies_full_jid"] != len(echoes):
                missing.append("echoes from a full JID of %s (a client answers receipts there)" % contact)
            if self.summary["replies_active"] != len(echoes):
                missing.append("<active/> in every echo after <composing/>")
            others = [ev["id"] for ev in self.events if ev["kind"] == "receipt"
                      and ev["frm"] == contact and ev["id"] not in sent_ids]
            note = (" (receipts arrived for unknown ids %s)" % ", ".join(others)) if others else ""
            for i in sent_ids:
                if i not in receipts_for():
                    missing.append("receipt <received id='%s'/> from %s%s" % (i, contact, note))
        return (not missing, self.summary, missing)


    # ---- the platform side, through the sandbox's web page ---------------

    def page_call(self, method, path, payload=None):
        """One call of the page's JSON API (loopback, no token)."""
        url = self.args.page.rstrip("/") + path
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.read().decode()

    async def through_the_page(self, missing):
        a = self.args
        person = slixmpp.JID("%s@%s" % (a.page_as, self.gateway.bare)).bare
        text = "Hello from the platform's web page"
        mark = len(self.events)
        self.say("-- the page: %s writes to %s: %s" % (a.page_as, a.phone, text))
        try:
            await self.loop.run_in_executor(None, self.page_call, "POST", "/api/send",
                                            {"as": a.page_as, "to": a.phone, "body": text})
        except Exception as exc:
            missing.append("a message from the page (%s): %s" % (a.page, exc))
            return
        await self.wait_for('"%s" from %s' % (text, person),
                            lambda ev: ev["kind"] == "body" and ev["frm"] == person and text in ev["body"],
                            mark, frm=person)
        answer = "Hi from XMPP, seen on the page?"
        self.send_chat(person, answer)
        query = "/api/chat?" + urllib.parse.urlencode({"as": a.page_as, "with": a.phone})
        limit = self.loop.time() + min(a.step_timeout, max(self.remaining(), 0))
        while True:
            try:
                view = await self.loop.run_in_executor(None, self.page_call, "GET", query)
            except Exception as exc:
                view = ""
                err = exc
            else:
                err = None
            if answer in view:
                self.say("-- the page shows the answer in %s's chat" % a.page_as)
                return
            if self.loop.time() >= limit:
                missing.append("the answer in %s's chat on the page%s" % (
                    a.page_as, (" (%s)" % err) if err else ""))
                return
            await asyncio.sleep(0.2)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jid", required=True, help="user JID, e.g. demo@localhost")
    p.add_argument("--password", required=True)
    p.add_argument("--server", required=True, metavar="HOST:PORT",
                   help="connect here directly (no DNS lookup, no TLS)")
    p.add_argument("--gateway", default="gw.localhost", help="gateway component JID")
    p.add_argument("--phone", default="+15557654321", help="E.164 number to link")
    p.add_argument("--contact", default="+15550000001@gw.localhost", help="echo bot JID")
    p.add_argument("--message", action="append", metavar="TEXT",
                   help="message for the echo bot (repeatable; default: two messages)")
    p.add_argument("--mode", choices=("demo", "interop"), default="demo")
    p.add_argument("--page", metavar="URL", help="the sandbox platform's web page, e.g. http://127.0.0.1:8482/")
    p.add_argument("--page-as", default="+15550001111", metavar="PHONE",
                   help="the sandbox person the page plays (default: Alice)")
    p.add_argument("--timeout", type=float, default=60, help="bound for the whole run, seconds")
    p.add_argument("--step-timeout", type=float, default=20, help="bound for each awaited reply, seconds")
    p.add_argument("--transcript", action="store_true", help="print one line per stanza event")
    p.add_argument("--debug", action="store_true", help="slixmpp debug logging on stderr")
    a = p.parse_args(argv)
    if not a.message:
        a.message = list(DEFAULT_MESSAGES)
    host, sep, port = a.server.rpartition(":")
    if not sep or not port.isdigit():
        p.error("--server must be HOST:PORT")
    a.address = (host.strip("[]"), int(port))
    return a


def main(argv=None):
    a = parse_args(argv if argv is not None else sys.argv[1:])
    logging.basicConfig(level=logging.DEBUG if a.debug else logging.CRITICAL,
                        format="%(levelname)-8s %(message)s")
    try:
        sys.stdout.reconfigure(errors="replace")
    except AttributeError:
        pass

    xmpp = DemoClient(a)
    loop = xmpp.loop
    xmpp.deadline = loop.time() + a.timeout
    # force_starttls=False + disable_starttls=True: plaintext, never upgrade
    # (slixmpp 1.8 aborts by default when the server offers no STARTTLS).
    xmpp.connect(address=a.address, force_starttls=False, disable_starttls=True)
    try:
        loop.run_until_complete(asyncio.wait_for(asyncio.shield(xmpp.done), a.timeout))
    except asyncio.TimeoutError:
        if xmpp.result is None:
            why = ("overall timeout of %gs" % a.timeout) if xmpp.session_started else \
                  ("no XMPP session with %s within %gs" % (a.server, a.timeout))
            xmpp.result = (False, xmpp.summary, [why])
    ok, summary, missing = xmpp.result
    try:
        loop.run_until_complete(asyncio.wait_for(xmpp.disconnect(wait=1), 3))
    except Exception:
        pass

    if a.transcript or a.mode == "demo":
        other = summary.get("receipts_other", 0)
        print("-- summary: sent %d, echoed %d, receipts %d%s, composing %d" % (
            summary.get("sent", 0), summary.get("echoed", 0), summary.get("receipts", 0),
            (" (+%d naming ids this client never sent)" % other) if other else "",
            summary.get("composing", 0)), flush=True)
    for m in missing:
        print("MISSING: " + m, flush=True)
    if a.mode == "interop":
        out = {"ok": ok, "sent": summary.get("sent", 0), "echoed": summary.get("echoed", 0),
               "receipts": summary.get("receipts", 0), "caps_verified": summary.get("caps_verified", False),
               "replies_full_jid": summary.get("replies_full_jid", 0),
               "replies_active": summary.get("replies_active", 0),
               "composing": summary.get("composing", 0)}
        if missing:
            out["missing"] = missing
        print(json.dumps(out), flush=True)
    elif ok:
        print("OK", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
