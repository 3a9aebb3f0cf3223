package views

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/form"
)

// WebhookForm adds a webhook, as typed.
type WebhookForm struct {
	URL    string
	OrgID  string
	Events []string
	Errors form.Errors
}

// DefaultWebhookEvents are ticked on a new form: the notices.
var DefaultWebhookEvents = []string{store.NoticeExpiring, store.NoticeRotationDue, store.NoticeGraceEnding}

// ParseWebhookForm reads the form from posted values.
func ParseWebhookForm(v url.Values) WebhookForm {
	return WebhookForm{URL: strings.TrimSpace(v.Get("url")), OrgID: strings.TrimSpace(v.Get("org")), Events: v["events"]}
}

// WebhookList is the webhooks page: the scope's webhooks and the form to
// add one.
type WebhookList struct {
	Hooks []store.Webhook
	Orgs  []store.Org // the user's scope, for the organization menu
	Form  WebhookForm
}

// WebhookDetails is one webhook's page.
type WebhookDetails struct {
	Hook store.Webhook
	Log  []store.Delivery
}

// eventGroup is a heading of the event types' boxes.
type eventGroup struct {
	Title string
	Types []string
}

// webhookEventGroups sorts the event types a webhook may want under
// headings: the notices first, then by what they are about.
func webhookEventGroups() []eventGroup {
	groups := []eventGroup{{Title: "Notices"}, {Title: "API keys"}, {Title: "People and roles"}, {Title: "Organizations"}, {Title: "Console"}}
	for _, t := range store.WebhookEventTypes {
		i := 4
		switch prefix, _, _ := strings.Cut(t, "."); {
		case slices.Contains(DefaultWebhookEvents, t):
			i = 0
		case prefix == "key" || prefix == "keys":
			i = 1
		case prefix == "user" || prefix == "role" || prefix == "login" || prefix == "logout":
			i = 2
		case prefix == "org":
			i = 3
		}
		groups[i].Types = append(groups[i].Types, t)
	}
	return groups
}

// deliveryAnswer says what the receiver answered last.
func deliveryAnswer(d store.Delivery) string {
	switch {
	case d.LastTry.IsZero():
		return "Not tried yet"
	case d.LastStatus != 0 && d.LastError == "":
		return "HTTP " + itoa(d.LastStatus)
	case d.LastError != "":
		return d.LastError
	}
	return ""
}

// prettyJSON indents a delivery's body for reading; a body that is not
// JSON is shown as it is.
func prettyJSON(body string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(body), "", "  ") != nil {
		return body
	}
	return b.String()
}

// deliverySubject names what a delivery is about: its key, or else the
// target of its event; "" for a test.
func deliverySubject(d store.Delivery) string {
	var body struct {
		Data struct {
			Key   *struct{ Name string }
			Event *struct {
				TargetName string `json:"target_name"`
			}
		}
	}
	if json.Unmarshal([]byte(d.Body), &body) != nil {
		return ""
	}
	switch {
	case body.Data.Key != nil:
		return quoted(body.Data.Key.Name)
	case body.Data.Event != nil:
		return body.Data.Event.TargetName
	}
	return ""
}

// newestDeliveries says how many deliveries the log lists.
func newestDeliveries(n int) string {
	if n == 1 {
		return "The only delivery"
	}
	return "The newest " + thousands(n) + " deliveries"
}

// deleteWebhookMessage is what deleting a webhook asks to confirm: what
// goes with it.
func deleteWebhookMessage(w store.Webhook) string {
	msg := "Nothing more is sent to " + store.WebhookURLShown(w.URL) + ", and its deliveries are forgotten"
	if w.Waiting > 0 {
		msg += ", " + plural(w.Waiting, "of them still waiting to be sent", "of them still waiting to be sent")
	}
	return msg + ". The audit log keeps that it existed."
}
