package keys

import (
	"github.com/vecguard/vecguard/vecguard/driver"
)

// A keyset record, as a Store holds it:
//
//	"VGKS"   magic
//	byte     format (1)
//	byte     state: 1 active, 2 destroyed
//	bytes    active: the tenant's Tink keyset, encrypted under the KEK
//	         (Tink's binary EncryptedKeyset); destroyed: nothing
//
// A destroyed record is a tombstone: it keeps the provider from silently
// creating new keys for a tenant whose data was crypto-shredded.
const (
	recordMagic     = "VGKS"
	recordFormat    = 1
	stateActive     = 1
	stateDestroyed  = 2
	recordHeaderLen = len(recordMagic) + 2
)

var errRecord = driver.Errorf(driver.DataLoss, "keys: malformed key record")

func marshalRecord(state byte, body []byte) []byte {
	b := make([]byte, 0, recordHeaderLen+len(body))
	b = append(b, recordMagic...)
	b = append(b, recordFormat, state)
	return append(b, body...)
}

// parseRecord returns a record's state and body.
func parseRecord(b []byte) (state byte, body []byte, err error) {
	if len(b) < recordHeaderLen || string(b[:len(recordMagic)]) != recordMagic || b[4] != recordFormat {
		return 0, nil, errRecord
	}
	state, body = b[5], b[recordHeaderLen:]
	switch {
	case state == stateActive && len(body) > 0:
	case state == stateDestroyed && len(body) == 0:
	default:
		return 0, nil, errRecord
	}
	return state, body, nil
}
