package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// A budget is what a figure may reach. Figures that grow with the data
// have their budget per million keys, scaled to each size.
type budget struct {
	unit       string  // "ms", "s", "MB"
	max        float64 // 0: no budget, the figure is shown for information
	perMillion bool
	// ratio is how much the figure may grow from the smallest size to the
	// largest; 0 for no limit.
	ratio float64
	// atLeast makes max a floor, for rates.
	atLeast bool
}

// The budgets of the console. Page times are medians of server time.
var (
	firstPageBudget   = budget{unit: "ms", max: 15, ratio: 1.5}
	filterBudget      = budget{unit: "ms", max: 30, ratio: 1.5}
	deepPageBudget    = budget{unit: "ms", max: 15, ratio: 1.5}
	shortSearchBudget = budget{unit: "ms", max: 50, ratio: 1.5}
	eventBudget       = budget{unit: "ms", max: 30, ratio: 1.5}
	seedBudget        = budget{unit: "s", max: 60, perMillion: true}
	fileBudget        = budget{unit: "MB", max: 800, perMillion: true}
	csvTimeBudget     = budget{unit: "s", max: 6, perMillion: true}
	csvMemoryBudget   = budget{unit: "MB", max: 50}
	restMemoryBudget  = budget{unit: "MB", max: 100}
	bulkBudget        = budget{unit: "s", max: 10}
	othersPageBudget  = budget{unit: "ms", max: 100}
	apiListBudget     = budget{unit: "ms", max: 50}
	apiCreateBudget   = budget{unit: "keys/s", max: 500, atLeast: true}
)

// noBudget is for figures shown for information.
func noBudget(unit string) budget { return budget{unit: unit} }

// limit is the budget at a number of keys.
func (b budget) limit(keys int) float64 {
	if b.perMillion {
		return b.max * float64(keys) / 1e6
	}
	return b.max
}

// keeps reports whether v keeps to the budget at a number of keys.
func (b budget) keeps(v float64, keys int) bool {
	switch {
	case b.max == 0:
		return true
	case b.atLeast:
		return v >= b.limit(keys)
	}
	return v <= b.limit(keys)
}

func (b budget) String() string {
	if b.max == 0 {
		return "–"
	}
	s := "≤ "
	if b.atLeast {
		s = "≥ "
	}
	s += strconv.FormatFloat(b.max, 'g', -1, 64) + " " + b.unit
	if b.perMillion {
		s += " per 1M keys"
	}
	if b.ratio > 0 {
		s += fmt.Sprintf("; ratio ≤ %.1f", b.ratio)
	}
	return s
}

// A figure is one row of the table at one size: one value, or two (a full
// page and its htmx partial; a median and a maximum), as the name says.
type figure struct {
	name   string
	budget budget
	values []float64
}

// A result is what was measured on one database.
type result struct {
	keys    int
	figures []figure
	notes   []string
}

func (r *result) add(name string, b budget, values ...float64) {
	r.figures = append(r.figures, figure{name: name, budget: b, values: values})
}

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *result) figure(name string) (figure, bool) {
	i := slices.IndexFunc(r.figures, func(f figure) bool { return f.name == name })
	if i < 0 {
		return figure{}, false
	}
	return r.figures[i], true
}

// writeTable writes one markdown table: a row per figure, a column per
// size, the ratio of the largest size to the smallest, the budget and
// whether every size kept to it. It returns how many figures did not.
func writeTable(w io.Writer, results []result) (over int) {
	var names []string
	budgets := map[string]budget{}
	for _, r := range results {
		for _, f := range r.figures {
			if _, ok := budgets[f.name]; !ok {
				names = append(names, f.name)
				budgets[f.name] = f.budget
			}
		}
	}
	head := []string{"figure"}
	for _, r := range results {
		head = append(head, thousands(r.keys))
	}
	first, last := results[0], results[len(results)-1]
	ratioHead := "ratio"
	if len(results) > 1 {
		ratioHead = fmt.Sprintf("ratio (%s / %s)", shortKeys(last.keys), shortKeys(first.keys))
	}
	head = append(head, ratioHead, "budget", "ok?")
	writeRow(w, head)
	writeRow(w, slices.Repeat([]string{"---"}, len(head)))
	for _, name := range names {
		b := budgets[name]
		row := []string{name}
		ok := true
		for _, r := range results {
			f, found := r.figure(name)
			if !found {
				row = append(row, "–")
				continue
			}
			cells := make([]string, len(f.values))
			for i, v := range f.values {
				cells[i] = number(v, b.unit)
				if !b.keeps(v, r.keys) {
					ok = false
				}
			}
			row = append(row, strings.Join(cells, " / "))
		}
		ratio, hasRatio := growth(name, first, last)
		switch {
		case !hasRatio || len(results) < 2:
			row = append(row, "–")
		default:
			row = append(row, fmt.Sprintf("%.2f", ratio))
			if b.ratio > 0 && ratio > b.ratio {
				ok = false
			}
		}
		verdict := ""
		if b.max > 0 {
			verdict = "yes"
			if !ok {
				verdict, over = "**no**", over+1
			}
		}
		row = append(row, b.String(), verdict)
		writeRow(w, row)
	}
	return over
}

// growth is the largest ratio of a figure's values between two sizes.
func growth(name string, small, large result) (float64, bool) {
	a, okA := small.figure(name)
	b, okB := large.figure(name)
	if !okA || !okB || len(a.values) != len(b.values) {
		return 0, false
	}
	ratio, found := 0.0, false
	for i := range a.values {
		if a.values[i] > 0 {
			ratio, found = max(ratio, b.values[i]/a.values[i]), true
		}
	}
	return ratio, found
}

func writeRow(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// number writes a value with the precision its unit deserves.
func number(v float64, unit string) string {
	switch {
	case unit == "s" && v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return thousands(int(v + 0.5))
	}
}

// thousands writes n with commas: 1,000,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// shortKeys writes a number of keys briefly: 100k, 1M.
func shortKeys(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return strconv.Itoa(n/1e6) + "M"
	case n >= 1e3 && n%1e3 == 0:
		return strconv.Itoa(n/1e3) + "k"
	}
	return thousands(n)
}
