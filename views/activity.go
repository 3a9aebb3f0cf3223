package views

import "github.com/keydesk/keydesk/store"

// ActivityTop is how many keys each of the Activity page's lists shows.
const ActivityTop = 20

// ActivityPage is the Activity page: the verifications of the user's
// organizations' keys over a period.
type ActivityPage struct {
	Period   store.ActivityPeriod
	Activity store.Activity
}

// activityList is one of the page's top lists.
type activityList struct {
	ID, Title, Column, Empty string
	By                       func(store.UsageCounts) int64
}

var activityLists = []activityList{
	{"used", "Used most", "Valid", "No key passed a verification.", store.UsageCounts.Valid},
	{"refused", "Refused most", "Refused", "No key was refused.", store.UsageCounts.Refused},
	{"limited", "Rate-limited most", "Rate limited", "No key hit its rate limit.", store.UsageCounts.RateLimited},
}
