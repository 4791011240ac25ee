-- Drawbridge: attach the gateway to Prosody (0.12 or later) as an XEP-0114
-- external component.
--
-- Paste this block at the END of prosody.cfg.lua (after the global section
-- and your VirtualHost entries), or save it next to prosody.cfg.lua and add
-- this line at the end of it:
--
--     Include "drawbridge.cfg.lua"
--
-- Replace the domain and the secret below with your own; Drawbridge's
-- configuration (component JID and secret) must use the same values. Then run
-- `prosodyctl reload` (or restart Prosody).
--
-- The port Drawbridge connects to is configured in the GLOBAL section of
-- prosody.cfg.lua (not here). Only Drawbridge should be able to reach it: keep
-- it on loopback or a private network.
--
--     component_ports = { 5347 }
--     component_interfaces = { "127.0.0.1" }
--
-- Optional, also in the GLOBAL section: turn Prosody's Nagle algorithm off.
-- Prosody keeps it on by default, so a small stanza it writes right after
-- another one waits for the peer's ACK. Drawbridge (on Linux) ACKs what it
-- reads at once, so this does not delay messages to the gateway; towards
-- the users it can still hold a stanza of the gateway back until the user's
-- client ACKs the previous one: a round trip or more on slow links, and up
-- to 40 ms even on a fast one, where the client's system delays its ACK
-- (measured: BENCHMARKS.md, "What stands between each figure and its
-- target"). Recommended.
--
--     network_settings = { nagle = false }
--
-- (That is the option of Prosody's default epoll backend in 0.12;
-- "tcp_nodelay" is not a Prosody option and is silently ignored.)
--
-- The domain must resolve for remote servers (DNS SRV/A records pointing at
-- this Prosody) if users of other servers are to reach the gateway's contacts.
--
-- Optional: let the gateway put its contacts straight into the users'
-- rosters (no subscription requests to approve) and send what users write
-- from their phones as their own messages, so all their clients get carbons
-- (XEP-0356; mod_privilege comes with Debian's prosody-modules package and
-- needs no plugin_paths). Drawbridge detects the grant when it connects.
-- Two places: in your VirtualHost section (not here)
--
--     modules_enabled = { "privilege" }
--     privileged_entities = {
--         ["wa.example.org"] = { roster = "both"; message = "outgoing" };
--     }
--
-- and in the Component section below, uncomment modules_enabled: the module
-- advertises the privileges when it sees the component connect, which it
-- only does when it is loaded on the component's host as well.

Component "wa.example.org"
	component_secret = "change-me"

	-- When Drawbridge reconnects after a network failure, Prosody may still
	-- hold the dead connection for a while; with the default ("kick_new") it
	-- would refuse the new one with a "conflict" stream error until then.
	-- Run one Drawbridge instance per component domain, or several with
	-- cluster.enabled (only the holder of the front lease connects; its
	-- connection replaces one a paused predecessor left open).
	component_conflict_resolve = "kick_old"

	-- With XEP-0356 privileges (see above):
	-- modules_enabled = { "privilege" }

	-- Name shown in service discovery while Drawbridge is not connected.
	-- name = "WhatsApp gateway"

	-- Stanzas from the gateway must come from its own domain (the default).
	-- validate_from_addresses = true
