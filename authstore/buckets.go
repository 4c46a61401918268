package authstore

// Bucket layout (schema version 3). Update this tree, add a migration and
// bump schemaVersion whenever the structure changes.
//
//	meta/
//	  schema_version   : uint64 big-endian
//	  signing_keys/    : kid -> 32-byte HMAC key (session JWTs)
//	  signing_key      : kid of the key new session JWTs are signed with
//	  assertion_keys/  : kid -> AssertionKey JSON (identity assertions;
//	                     created on first use, so no schema change)
//	  setup            : JSON first-admin setup grant (hash, expiry)
//	users/             : user id -> User JSON
//	logins/            : normalised login -> user id, human accounts
//	agent_logins/      : normalised login -> user id, agent accounts (v2;
//	                     a login is in at most one of the two, logins.go)
//	pats/              : SHA-256(token) -> PAT JSON
//	pat_ids/           : token id -> SHA-256(token)
//	user_pats/         : user id | token id -> (empty)
//	sessions/          : session id -> Session JSON
//	user_sessions/     : user id | session id -> (empty)
//	refresh/           : SHA-256(refresh token) -> RefreshToken JSON (each
//	                     links to its predecessor; Session.Refresh is the head)
//	device/            : SHA-256(device code) -> DeviceGrant JSON
//	device_users/      : SHA-256(normalised user code) -> SHA-256(device code)
//	audit/             : uint64 big-endian sequence -> Event JSON
//	identities/        : provider | subject -> Identity JSON (v3; the
//	                     external sign-in's key, identities.go)
//	user_identities/   : user id | provider | subject -> (empty) (v3)
var (
	bucketMeta           = []byte("meta")
	bucketSigningKeys    = []byte("signing_keys")   // nested in meta
	bucketAssertionKeys  = []byte("assertion_keys") // nested in meta
	bucketUsers          = []byte("users")
	bucketLogins         = []byte("logins")
	bucketAgentLogins    = []byte("agent_logins")
	bucketPATs           = []byte("pats")
	bucketPATIDs         = []byte("pat_ids")
	bucketUserPATs       = []byte("user_pats")
	bucketSessions       = []byte("sessions")
	bucketUserSessions   = []byte("user_sessions")
	bucketRefresh        = []byte("refresh")
	bucketDevice         = []byte("device")
	bucketDeviceUsers    = []byte("device_users")
	bucketAudit          = []byte("audit")
	bucketIdentities     = []byte("identities")
	bucketUserIdentities = []byte("user_identities")

	keySchemaVersion = []byte("schema_version")
	keySetup         = []byte("setup")
	keySigningKey    = []byte("signing_key")
)

// topBuckets are the buckets of schema version 1, created together by its
// migration; later versions' migrations create their own.
var topBuckets = [][]byte{
	bucketMeta, bucketUsers, bucketLogins, bucketPATs, bucketPATIDs,
	bucketUserPATs, bucketSessions, bucketUserSessions, bucketRefresh,
	bucketDevice, bucketDeviceUsers, bucketAudit,
}

// indexKey joins an owner id and a child id into a composite index key; ids
// never contain '|'.
func indexKey(owner, child string) []byte {
	k := make([]byte, 0, len(owner)+1+len(child))
	k = append(k, owner...)
	k = append(k, '|')
	return append(k, child...)
}
