package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/labstack/echo/v4"

	"github.com/keydesk/keydesk/store"
	"github.com/keydesk/keydesk/views/urls"
)

// showCalendarFeed answers GET /calendar/{token}.ics with the token's user's
// keys' expiry and rotation dates, as iCalendar (RFC 5545). The token is
// the only credential: no session, no cookie.
func (h *handler) showCalendarFeed(c echo.Context) error {
	token, ok := strings.CutSuffix(c.Param("file"), ".ics")
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such calendar.")
	}
	feed, err := h.store.Calendar(c.Request().Context(), token)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := calendarOf(feed, h.consoleURL(c), h.now()).SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "private, max-age=300")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Disposition", `inline; filename="keydesk.ics"`)
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", b.Bytes())
}

// consoleURL is where people reach the console: the configured public
// address, else the request's own.
func (h *handler) consoleURL(c echo.Context) *url.URL {
	if u, err := url.Parse(h.cfg.PublicURL); h.cfg.PublicURL != "" && err == nil {
		return u
	}
	return &url.URL{Scheme: c.Scheme(), Host: c.Request().Host}
}

// calendarOf makes the iCalendar of a feed: one event per date, at the
// time it happens, with a reminder the day before, linking to the key.
func calendarOf(feed store.CalendarFeed, console *url.URL, now time.Time) *ics.Calendar {
	cal := ics.NewCalendar()
	cal.SetProductId("-//Keydesk//API key dates//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	cal.SetXWRCalName("Keydesk: " + feed.User.Username + "'s keys")
	cal.SetRefreshInterval("PT1H") // the library adds VALUE=DURATION
	for _, e := range feed.Entries {
		what := "expires"
		if e.Kind == store.NoticeRotationDue {
			what = "is due for rotation"
		}
		ev := cal.AddEvent(e.Kind + "-" + e.KeyID + "-" + strconv.FormatInt(e.At.Unix(), 10) + "@keydesk")
		ev.SetDtStampTime(now.UTC())
		ev.SetStartAt(e.At)
		ev.SetEndAt(e.At.Add(30 * time.Minute))
		ev.SetSummary("API key “" + e.KeyName + "” " + what)
		link := console.JoinPath(urls.Key(e.KeyID)).String()
		ev.SetDescription("The key “" + e.KeyName + "” of " + e.OrgPath + " " + what + " at " + e.At.Format("2006-01-02 15:04 UTC") + ".\n" + link)
		ev.SetURL(link)
		ev.SetTimeTransparency(ics.TransparencyTransparent)
		alarm := ev.AddAlarm()
		alarm.SetAction(ics.ActionDisplay)
		alarm.SetTrigger("-P1D")
		alarm.SetProperty(ics.ComponentPropertyDescription, "API key “"+e.KeyName+"” "+what+" tomorrow")
	}
	return cal
}
