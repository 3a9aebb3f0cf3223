package views

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/keydesk/keydesk/store"
)

// The usage chart's drawing area, in SVG units.
const (
	chartW, chartH   = 700.0, 160.0
	chartTop         = 14.0 // room for the top value
	chartBottom      = 22.0 // room for the days
	chartLeft        = 4.0
	chartBarGap      = 0.25 // of a bar's slot
	chartPlotHeight  = chartH - chartTop - chartBottom
	chartMinBarPixel = 1.5 // a day with any use shows
)

// usageSegment is one outcome's part of a bar: passed, rate limited,
// refused, each with its own fill pattern (readable without colour).
type usageSegment struct {
	Y, H  float64
	Class string
}

// usageBar is one day of the chart.
type usageBar struct {
	X, W     float64
	Segments []usageSegment
	Label    string // under the bar; empty on every other day
	Title    string // the day's figures, for a pointer and a screen reader
}

// usageBars lays out a key's days as stacked bars, scaled to the
// busiest day.
func usageBars(u store.KeyUsage) (bars []usageBar, top int64) {
	for _, d := range u.Days {
		top = max(top, d.Counts.Total())
	}
	slot := (chartW - chartLeft) / float64(max(len(u.Days), 1))
	for i, d := range u.Days {
		b := usageBar{X: chartLeft + float64(i)*slot + slot*chartBarGap/2, W: slot * (1 - chartBarGap), Title: dayFigures(d)}
		if (len(u.Days)-1-i)%2 == 0 || len(u.Days) <= 7 { // today always
			b.Label = d.At.Format("2 Jan")
		}
		y := chartTop + chartPlotHeight
		for _, part := range []struct {
			n     int64
			class string
		}{{d.Counts.Valid(), "use-valid"}, {d.Counts.RateLimited(), "use-limited"}, {d.Counts.Refused(), "use-refused"}} {
			if part.n == 0 || top == 0 {
				continue
			}
			h := max(float64(part.n)/float64(top)*chartPlotHeight, chartMinBarPixel)
			h = min(h, y-chartTop) // the least parts' minimum never lifts a bar off the plot
			y -= h
			b.Segments = append(b.Segments, usageSegment{Y: y, H: h, Class: part.class})
		}
		bars = append(bars, b)
	}
	return bars, top
}

// dayFigures says one day's verifications in words.
func dayFigures(d store.UsagePeriod) string {
	return fmt.Sprintf("%s: %s, %s rate limited, %s refused", d.At.Format("Mon 2 Jan"),
		plural(int(d.Counts.Valid()), "valid", "valid"), thousands(int(d.Counts.RateLimited())), thousands(int(d.Counts.Refused())))
}

// usageSummary says a period's totals in words.
func usageSummary(c store.UsageCounts) string {
	return fmt.Sprintf("%s verifications: %s valid, %s rate limited, %s refused", thousands(int(c.Total())),
		thousands(int(c.Valid())), thousands(int(c.RateLimited())), thousands(int(c.Refused())))
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// A sparkline's drawing area, in SVG units.
const sparkW, sparkH = 72.0, 18.0

// sparkPoints places counts across the sparkline, scaled to the largest,
// with a pixel's margin so that the line shows at 0 and at the top.
func sparkPoints(counts []int64) string {
	top := int64(0)
	for _, c := range counts {
		top = max(top, c)
	}
	step := sparkW / float64(len(counts)-1)
	var b strings.Builder
	for i, c := range counts {
		y := sparkH - 1
		if top > 0 {
			y = sparkH - 1 - float64(c)/float64(top)*(sparkH-2)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f1(float64(i)*step) + "," + f1(y))
	}
	return b.String()
}

// sparkTitle says what a sparkline shows.
func sparkTitle(counts []int64) string {
	top := int64(0)
	for _, c := range counts {
		top = max(top, c)
	}
	return fmt.Sprintf("Valid verifications by hour over %d hours; the busiest hour had %s", len(counts), thousands(int(top)))
}
