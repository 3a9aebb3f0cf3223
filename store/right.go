package store

// Right is a permission of a console user, held through a role.
type Right string

const (
	RightKeysView   Right = "apikeys.view"
	RightKeysRead   Right = "apikeys.read"
	RightKeysCreate Right = "apikeys.create"
	RightKeysUpdate Right = "apikeys.update"
	RightKeysDelete Right = "apikeys.delete"
	RightUsers      Right = "users.manage"
	RightAudit      Right = "audit.view"
	RightSettings   Right = "settings.manage"
	RightOrgs       Right = "orgs.manage"
	RightKeysReveal Right = "apikeys.reveal"
)

// RightInfo explains a right to the person granting it.
type RightInfo struct {
	Right       Right
	Description string
}

// Rights lists every right, in the order the console shows them.
var Rights = []RightInfo{
	{RightKeysView, "See the API keys page (together with Read)."},
	{RightKeysRead, "Read keys: the list, each key's details, and the CSV download."},
	{RightKeysCreate, "Create new keys and copy existing ones."},
	{RightKeysUpdate, "Enable, disable, expire, extend, rotate and revoke keys."},
	{RightKeysDelete, "Delete keys, one at a time or in bulk."},
	{RightKeysReveal, "Show the secret of a recoverable key again, and download it in the CSV."},
	{RightUsers, "Manage console users and their roles."},
	{RightAudit, "Read the audit log of every change."},
	{RightSettings, "Change console settings, and the policy of organizations."},
	{RightOrgs, "Create, rename, move and delete organizations."},
}

// ValidRight reports whether r is a known right.
func ValidRight(r Right) bool {
	for _, info := range Rights {
		if info.Right == r {
			return true
		}
	}
	return false
}

// AllRights lists every right, in Rights' order.
func AllRights() []Right {
	out := make([]Right, len(Rights))
	for i, r := range Rights {
		out[i] = r.Right
	}
	return out
}
