-- Prosody for deploy/docker/compose.yaml: one VirtualHost and the
-- Drawbridge component from ../prosody/drawbridge.cfg.lua (mounted next to
-- this file). Replace example.org with your domain, and provide TLS
-- certificates in /etc/prosody/certs (see Prosody's documentation) before
-- exposing it.
admins = { }
modules_enabled = {
	"roster"; "saslauth"; "tls"; "dialback"; "disco"; "carbons"; "pep";
	"private"; "blocklist"; "vcard4"; "vcard_legacy"; "version"; "uptime";
	"time"; "ping"; "register"; "mam"; "smacks"; "csi_simple";
}
-- XEP-0356 privileges for the gateway (optional, see drawbridge.cfg.lua)
-- need mod_privilege from prosody-modules; if your image does not ship
-- it, add the directory holding it:
-- plugin_paths = { "/usr/lib/prosody-modules" }
allow_registration = false
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
pidfile = "/var/run/prosody/prosody.pid"
authentication = "internal_hashed"
storage = "internal"
log = { info = "*console" }
certificates = "certs"

-- The gateway connects from the drawbridge container; the port is not
-- published outside the compose network.
component_ports = { 5347 }
component_interfaces = { "*" }

VirtualHost "example.org"

Include "drawbridge.cfg.lua"
