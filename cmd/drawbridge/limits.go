package main

import (
	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/config"
)

// hubLimits turns the limits section into the hub's options.
func hubLimits(c config.LimitsConfig) gateway.Limits {
	rate := func(r config.RateConfig) gateway.RateLimit {
		return gateway.RateLimit{
			PerJID: gateway.Rate{PerMinute: r.PerJID, Burst: r.PerJIDBurst},
			Global: gateway.Rate{PerMinute: r.Global, Burst: r.GlobalBurst},
		}
	}
	return gateway.Limits{
		Messages:       rate(c.Messages),
		Registrations:  rate(c.Registrations),
		Logins:         rate(c.Logins),
		MaxBodySize:    int(c.MaxBodySize),
		MaxAttachments: int(c.MaxAttachments),
	}
}
