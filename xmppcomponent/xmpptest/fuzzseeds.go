package xmpptest

// FuzzStanzaSeeds are stanzas of every kind the component handles, with
// every payload it parses, and a few broken ones: the seeds of the
// stream and stanza fuzzers.
var FuzzStanzaSeeds = []string{
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m1' type='chat'><body>hello</body><request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='o1'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m2' type='chat'><body>&gt; quoted
fixed</body><replace id='m1' xmlns='urn:xmpp:message-correct:0'/><reply to='+15550001111@gw.example.test' id='x1' xmlns='urn:xmpp:reply:0'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='9'/></fallback></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m3' type='chat'><retract id='m1' xmlns='urn:xmpp:message-retract:1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><body>retracted</body></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m4' type='chat'><reactions id='m1' xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' id='m5' type='chat'><body>https://files.example.test/a.png</body><x xmlns='jabber:x:oob'><url>https://files.example.test/a.png</url></x></message>`,
	`<message from='alice@example.test/phone' to='+15550001111@gw.example.test' type='chat'><received xmlns='urn:xmpp:receipts' id='w1'/><displayed xmlns='urn:xmpp:chat-markers:0' id='w2'/></message>`,
	`<presence from='alice@example.test/phone' to='+15550001111@gw.example.test' type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>Alice</nick></presence>`,
	`<presence from='alice@example.test/phone' to='gw.example.test'><show>away</show><x xmlns='vcard-temp:x:update'><photo/></x></presence>`,
	`<iq from='alice@example.test/phone' to='gw.example.test' id='i1' type='set'><query xmlns='jabber:iq:register'><username>x</username><x xmlns='jabber:x:data' type='submit'><field var='phone'><value>+1555</value></field></x></query></iq>`,
	`<iq from='alice@example.test/phone' to='gw.example.test' id='i2' type='set'><command xmlns='http://jabber.org/protocol/commands' node='login' sessionid='s1' action='next'><x xmlns='jabber:x:data' type='submit'><field var='phone'><value>+15557654321</value></field></x></command></iq>`,
	`<iq from='alice@example.test/phone' to='gw.example.test' id='i3' type='get'><query xmlns='jabber:iq:gateway'/></iq>`,
	`<iq from='alice@example.test/phone' to='gw.example.test' id='i4' type='set'><query xmlns='jabber:iq:gateway'><prompt>+1 555 000 1111</prompt></query></iq>`,
	`<iq from='alice@example.test/phone' to='+15550001111@gw.example.test' id='i5' type='get'><vCard xmlns='vcard-temp'/></iq>`,
	`<iq from='example.test' to='gw.example.test' id='i6' type='result'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='server' type='im'/><feature var='urn:xmpp:http:upload:0'/></query></iq>`,
	`<iq from='example.test' to='gw.example.test' id='i7' type='get'><ping xmlns='urn:xmpp:ping'/></iq>`,
	`<message from='example.test' to='gw.example.test' id='p1'><privilege xmlns='urn:xmpp:privilege:2'><perm access='message' type='outgoing'/><perm access='iq' type='both'><namespace ns='jabber:iq:roster' type='both'/></perm></privilege></message>`,
	`<handshake/>`,
	`<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>x</text></stream:error>`,
	`<message from='a@b'><body>unclosed`,
	`<iq type='get' id='x'><unknown xmlns='urn:example:unknown'><deep><deeper/></deep></unknown></iq></stream:stream>`,
}
