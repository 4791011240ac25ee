#!/usr/bin/python3
"""Independent XMPP client that uses a Drawbridge group through slixmpp's MUC plugin.

It uses slixmpp (Debian's python3-slixmpp; run it with /usr/bin/python3) and
knows nothing of Drawbridge's code: it only speaks XMPP to a server.

    /usr/bin/python3 testdata/clients/muc_client.py \
        --jid demo@localhost --password demo --server 127.0.0.1:5222 \
        --gateway gw.localhost --phone +15557654321 \
        --room '#group-lounge@gw.localhost' --expect 'hi slixmpp'

Steps: connect (plaintext, no DNS), link --phone through the gateway's chat
commands, wait for the gateway's invitation to --room (the test adds the
account to the group once it is linked): a mediated XEP-0045 invitation from
the room, whose inviter is reported, that also carries the XEP-0249 payload;
join the room with XEP-0045 (join_muc_wait) as --nick, send --message as a
groupchat message and wait for its reflection, then wait for a groupchat
message containing --expect from another occupant. The last line printed is
JSON:
{"ok": ..., "occupants": N, "nick": "...", "inviter": "...", "subject": "...", "reflected": bool, "received": bool, "missing": [...]}.

Exit status: 0 when everything expected arrived, 1 otherwise. Every wait is
bounded by --step-timeout and the whole run by --timeout.
"""

import argparse
import asyncio
import json
import logging
import sys

logging.getLogger("slixmpp.stringprep").setLevel(logging.ERROR)

import slixmpp  # noqa: E402


class Failure(Exception):
    """An expected stanza did not arrive."""


class MucClient(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0045")
        self.register_plugin("xep_0249")
        self.summary = {"occupants": 0, "nick": "", "inviter": "", "subject": "", "reflected": False, "received": False}
        self.missing = []
        self.done = self.loop.create_future()
        self.chat = []  # bodies from the gateway
        self.invites = []  # room JIDs of direct invitations
        self.inviters = {}  # room JID -> inviter of mediated invitations
        self.room_messages = []  # (from, id, body) of groupchat messages
        self.changed = asyncio.Event()
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("groupchat_direct_invite", self.on_invite)
        self.add_event_handler("groupchat_invite", self.on_mediated_invite)
        self.add_event_handler("groupchat_message", self.on_groupchat)

    def on_message(self, msg):
        if msg["type"] in ("chat", "normal") and msg["body"]:
            self.chat.append(msg["body"])
            self.changed.set()

    def on_invite(self, msg):
        self.invites.append(str(msg["groupchat_invite"]["jid"]))
        self.changed.set()

    def on_mediated_invite(self, msg):
        self.inviters[str(msg["from"].bare)] = str(msg["muc"]["invite"]["from"])
        self.changed.set()

    def on_groupchat(self, msg):
        if msg["body"]:
            self.room_messages.append((str(msg["from"]), msg["id"], msg["body"]))
            self.changed.set()

    async def wait(self, what, cond):
        limit = self.loop.time() + self.args.step_timeout
        while not cond():
            left = limit - self.loop.time()
            if left <= 0:
                raise Failure(what)
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def say_to_gateway(self, body):
        self.send_message(mto=self.args.gateway, mbody=body, mtype="chat")

    async def scenario(self):
        a = self.args
        self.send_presence()
        await self.get_roster(timeout=10)
        self.say_to_gateway("link")
        await self.wait("the gateway asks for a phone number", lambda: any("phone number" in b for b in self.chat))
        self.say_to_gateway(a.phone)
        await self.wait('"is now linked"', lambda: any("is now linked" in b for b in self.chat))
        await self.wait("a direct invitation to " + a.room, lambda: a.room in self.invites)
        await self.wait("a mediated invitation to " + a.room, lambda: a.room in self.inviters)
        self.summary["inviter"] = self.inviters[a.room]

        room = slixmpp.JID(a.room)
        pres, subject, occupants, _history = await self["xep_0045"].join_muc_wait(
            room, a.nick, maxstanzas=0, timeout=a.step_timeout)
        self.summary["nick"] = pres["from"].resource
        self.summary["subject"] = subject["subject"]
        self.summary["occupants"] = len(occupants)

        msg = self.make_message(mto=room, mbody=a.message, mtype="groupchat")
        msg["id"] = "slix-1"
        msg.send()
        mine = str(room) + "/" + self.summary["nick"]
        await self.wait("the reflection of our message",
                        lambda: any(f == mine and i == "slix-1" for f, i, _ in self.room_messages))
        self.summary["reflected"] = True
        await self.wait("a message containing %r from another occupant" % a.expect,
                        lambda: any(f != mine and a.expect in b for f, _, b in self.room_messages))
        self.summary["received"] = True

    async def on_session_start(self, _):
        try:
            await self.scenario()
        except Failure as exc:
            self.missing.append(str(exc))
        except Exception as exc:  # report, never hang
            self.missing.append("client error: %r" % exc)
        if not self.done.done():
            self.done.set_result(None)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--server", required=True, metavar="HOST:PORT")
    p.add_argument("--gateway", required=True)
    p.add_argument("--phone", required=True)
    p.add_argument("--room", required=True)
    p.add_argument("--nick", default="slixmpp")
    p.add_argument("--message", default="hello from slixmpp")
    p.add_argument("--expect", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--step-timeout", type=float, default=20)
    a = p.parse_args()
    host, _, port = a.server.rpartition(":")
    logging.basicConfig(level=logging.CRITICAL)
    xmpp = MucClient(a)
    xmpp.connect(address=(host, int(port)), force_starttls=False, disable_starttls=True)
    try:
        xmpp.loop.run_until_complete(asyncio.wait_for(asyncio.shield(xmpp.done), a.timeout))
    except asyncio.TimeoutError:
        xmpp.missing.append("overall timeout of %gs" % a.timeout)
    xmpp.disconnect()
    ok = not xmpp.missing
    print(json.dumps(dict(ok=ok, missing=xmpp.missing, **xmpp.summary)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
