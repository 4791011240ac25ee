#!/usr/bin/python3
"""Run Gajim (1.7, Debian's) and take it through what a new Drawbridge user
does, inside Gajim's own process: the steps use Gajim's windows and buttons
(Register from service discovery, Execute command, the subscription
notification's Accept and the Add Contact dialog, a chat) the way a click
would, and screenshots of the X display record what Gajim showed.

testdata/clients/gajim.sh runs this under Xvfb; it is not meant to be run
by hand. Arguments: --out DIR (screenshots, results.json), --account NAME
(the account seeded in Gajim's settings), --gateway JID, --phone NUMBER,
--contact JID (the Echo Bot), --timeout SECONDS (per step). Every other
argument goes to Gajim (-c CONFIG_DIR, --verbose).

results.json lists each step with "ok" true or false and what was seen;
the exit status is 0 when every step passed.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('Gdk', '3.0')
from gi.repository import GLib, Gtk  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', required=True)
    p.add_argument('--account', required=True)
    p.add_argument('--gateway', required=True)
    p.add_argument('--phone', required=True)
    p.add_argument('--contact', required=True)
    p.add_argument('--timeout', type=float, default=30)
    return p.parse_known_args()


ARGS, GAJIM_ARGS = parse_args()
RESULTS = []
EVENTS = {'subscribe': [], 'messages': []}


def record(step, ok, **seen):
    RESULTS.append(dict(step=step, ok=ok, **seen))
    with open(os.path.join(ARGS.out, 'results.json'), 'w') as f:
        json.dump(RESULTS, f, indent=2)
    print(f'gajim-driver: {step}: {"ok" if ok else "FAILED"} {seen}', file=sys.stderr, flush=True)


def screenshot(name):
    path = os.path.join(ARGS.out, name + '.png')
    subprocess.run(['import', '-window', 'root', path], check=False)
    return path


def toplevels(cls_name):
    return [w for w in Gtk.Window.list_toplevels()
            if type(w).__name__ == cls_name and w.get_visible()]


def page_of(assistant):
    return assistant._ui.stack.get_visible_child_name()


def clickable(assistant, button):
    b, _ = assistant._buttons[button]
    return b.get_visible() and b.get_sensitive()


def click(assistant, button):
    """Click an assistant's button if it shows and may be clicked."""
    if clickable(assistant, button):
        assistant._buttons[button][0].clicked()
        return True
    return False


def widgets(root, cls):
    out = []

    def walk(w):
        if isinstance(w, cls):
            out.append(w)
        if isinstance(w, Gtk.Container):
            for c in w.get_children():
                walk(c)
    walk(root)
    return out


def labels_text(root):
    """The texts an assistant (its page on show) or a widget shows."""
    if hasattr(root, '_ui'):
        root = root._ui.stack.get_visible_child()
    return ' | '.join(t.get_text() for t in widgets(root, Gtk.Label)
                      if t.get_visible() and t.get_text().strip())


def client():
    from gajim.common import app
    return app.get_client(ARGS.account)


class Wait:
    """A step waits until cond() returns something true (its value is sent
    back into the scenario), failing after the timeout; a soft one sends
    None instead, and the scenario goes on."""

    def __init__(self, what, cond, timeout=None, soft=False):
        self.what, self.cond, self.soft = what, cond, soft
        self.deadline = time.monotonic() + (timeout or ARGS.timeout)


class Shot:
    """A screenshot, taken once every window has painted again."""

    def __init__(self, name):
        self.name = name
        self.deadline = time.monotonic() + 5


def scenario():
    from gajim.common import app
    from gajim.common import ged
    from nbxmpp.protocol import JID

    gw, echo = ARGS.gateway, ARGS.contact

    app.ged.register_event_handler(
        'subscribe-presence-received', ged.POSTGUI,
        lambda e: EVENTS['subscribe'].append((str(e.jid), e.user_nick or '')))
    app.ged.register_event_handler(
        'message-received', ged.POSTGUI,
        lambda e: EVENTS['messages'].append((str(e.jid), e.msgtxt or '')))

    yield Wait('connected', lambda: app.account_is_available(ARGS.account))
    record('connect', True)

    # Register: Discover services → the gateway → Register opens this
    # assistant, which asks the gateway for its registration form.
    from gajim.gtk.service_registration import ServiceRegistration
    reg = ServiceRegistration(ARGS.account, JID.from_string(gw))
    page = yield Wait('the registration form', lambda: page_of(reg) in ('form', 'error') and page_of(reg))
    yield Shot('1-register')
    if page == 'error':
        record('register: form', False, shown=labels_text(reg))
    else:
        entries = widgets(reg.get_page('form'), Gtk.Entry)
        for e in entries:
            if not e.get_text():
                e.set_text(ARGS.phone)
        record('register: form', True, shown=labels_text(reg), entries=len(entries))
        yield Wait('the Register button', lambda: clickable(reg, 'register'))
        click(reg, 'register')
        page = yield Wait('the registration result', lambda: page_of(reg) in ('success', 'error') and page_of(reg))
        yield Shot('2-registered')
        record('register: result', page == 'success', shown=labels_text(reg))
    reg.destroy()

    # Link: Execute command on the gateway → "Link account" → the phone
    # number → Complete (or Next), until the command completes.
    from gajim.gtk.adhoc import AdHocCommands
    adhoc = AdHocCommands(ARGS.account, gw)
    page = yield Wait('the command list', lambda: page_of(adhoc) in ('commands', 'error') and page_of(adhoc))
    commands = adhoc.get_page('commands')
    names = [row[0] for row in commands._store]
    record('commands', page == 'commands', commands=names)
    link = [i for i, n in enumerate(names) if 'link' in n.lower() and 'unlink' not in n.lower()]
    if not link:
        record('link', False, why='no link command')
        return
    commands._treeview.get_selection().select_path(Gtk.TreePath(link[0]))
    click(adhoc, 'execute')
    for n in range(1, 6):
        page = yield Wait('the next stage of the link command',
                          lambda: page_of(adhoc) in ('stage', 'completed', 'error') and page_of(adhoc))
        if page != 'stage':
            break
        stage = adhoc.get_page('stage')
        for e in widgets(stage, Gtk.Entry):
            if not e.get_text():
                e.set_text(ARGS.phone)
        # The form validates a moment after typing; then a button unlocks.
        button = yield Wait('a button to go on with the command',
                            lambda: next((b for b in ('complete', 'next') if clickable(adhoc, b)), None))
        yield Shot(f'3-link-stage{n}')
        click(adhoc, button)
    yield Shot('4-link-done')
    record('link', page == 'completed', shown=labels_text(adhoc))
    adhoc.destroy()

    # Contacts: accept each subscription request as the notification's
    # Accept does (it opens Add Contact, prefilled with the nickname), and
    # add the contact. With XEP-0356 there are none: the contacts are in
    # the roster already.
    roster = client().get_module('Roster')
    accepted = set()

    def subscribed_to_echo():
        item = roster.get_item(JID.from_string(echo))
        return item is not None and item.subscription in ('to', 'both')
    while True:
        yield Wait('a subscription request, an Add Contact window or the Echo Bot in the roster',
                   lambda: [s for s in EVENTS['subscribe'] if s[0] not in accepted]
                   or toplevels('AddContact')
                   or subscribed_to_echo())
        for w in toplevels('AddContact'):
            click(w, 'add') or click(w, 'next')
        for jid, nick in [s for s in EVENTS['subscribe'] if s[0] not in accepted]:
            accepted.add(jid)
            if '@' not in jid:
                # The gateway itself (XEP-0100 asks it to subscribe after
                # registration): accept and add it back, as Accept and
                # Add Contact do, without the contact window.
                presence = client().get_module('Presence')
                presence.subscribed(jid)
                presence.subscribe(jid, groups=['Transports'])
                continue
            app.window.activate_action(f'subscription-accept-{ARGS.account}', GLib.Variant('as', [jid, nick]))
        if subscribed_to_echo() and not toplevels('AddContact'):
            break
    record('contacts', True, subscription_requests=EVENTS['subscribe'])

    # The Echo Bot online, in Gajim's contact list, with its name.
    contact = client().get_module('Contacts').get_contact(JID.from_string(echo))
    online = yield Wait('the Echo Bot online', lambda: contact.is_available, soft=True)
    app.window.show_account_page(ARGS.account)
    yield Shot('5-roster')
    everyone = [{'jid': str(c.jid), 'name': c.name, 'show': c.show.value}
                for c in client().get_module('Roster').iter_contacts()]
    record('Echo Bot online with its name', bool(online) and contact.name == 'Echo Bot',
           name=contact.name, show=contact.show.value, roster=everyone)

    # A chat: type into the message box and send, as Enter does.
    app.window.add_chat(ARGS.account, JID.from_string(echo), 'contact', select=True)
    yield Wait('the chat', lambda: app.window.get_control() is not None
               and app.window.get_control().contact is not None
               and str(app.window.get_control().contact.jid) == echo)
    text = 'Hello from Gajim'
    stack = app.window._chat_page._chat_stack
    stack.get_message_input().get_buffer().set_text(text)
    app.window.activate_action('send-message', None)
    got = yield Wait('the echo', lambda: [m for m in EVENTS['messages'] if m[1] == 'echo: ' + text])
    yield Shot('6-chat')
    record('chat', bool(got), messages=EVENTS['messages'])


def run():
    steps = scenario()
    state = {'step': None, 'value': None, 'shot': None}

    def advance(value):
        try:
            state['step'] = steps.send(value)
        except StopIteration:
            finish()
            return False
        if isinstance(state['step'], Shot):
            shot = state['step']
            state['step'] = None
            # Repaint every window and take the picture when all did.
            shot.pending = set()
            for w in Gtk.Window.list_toplevels():
                clock = w.get_frame_clock() if w.get_visible() else None
                if clock is None:
                    continue
                shot.pending.add(w)

                def painted(clock, w=w):
                    shot.pending.discard(w)
                    if not shot.pending and not shot.taken:
                        shot.taken = True
                        GLib.idle_add(take_shot, shot.name)
                    return False
                clock.connect('after-paint', painted)
                w.queue_draw()
            shot.taken = False
            if not shot.pending:
                shot.taken = True
                GLib.idle_add(take_shot, shot.name)
            state['shot'] = shot
        return True

    def take_shot(name):
        screenshot(name)
        state['shot'] = None
        advance(None)
        return False

    def tick():
        step = state['step']
        shot = state['shot']
        if shot is not None and not shot.taken and time.monotonic() > shot.deadline:
            shot.taken = True  # a window that never painted: take it anyway
            GLib.idle_add(take_shot, shot.name)
        if step is None:
            return True
        try:
            v = step.cond()
        except Exception as e:  # a widget not there yet, and the like
            v = None
            state['error'] = repr(e)
        if v:
            advance(v)
        elif time.monotonic() > step.deadline and step.soft:
            advance(None)
        elif time.monotonic() > step.deadline:
            screenshot('failed')
            record('timeout', False, waiting_for=step.what, error=state.get('error'))
            finish()
            return False
        return True

    def start():
        advance(None)
        GLib.timeout_add(100, tick)
        return False

    GLib.idle_add(start)


def finish():
    from gajim.common import app
    ok = RESULTS and all(r['ok'] for r in RESULTS)
    with open(os.path.join(ARGS.out, 'status'), 'w') as f:
        f.write('0\n' if ok else '1\n')
    app.app.quit()


if __name__ == '__main__':
    from gajim import gajim as gajim_main
    sys.argv = ['gajim'] + GAJIM_ARGS
    run()
    gajim_main.main()
