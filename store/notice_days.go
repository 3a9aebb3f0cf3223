package store

import (
	"slices"
	"strconv"
	"strings"
)

// Notice days limits: how many, and how far ahead.
const (
	MaxNoticeDays     = 10
	MaxNoticeDaysLead = 365
)

// ParseNoticeDays reads the days before expiry that notices go out, such
// as "30, 14, 7", and writes them as the policy keeps them: "30,14,7",
// furthest first, each once. An empty text is the default.
func ParseNoticeDays(text string) (string, error) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if len(fields) == 0 {
		return "", nil
	}
	var days []int
	for _, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > MaxNoticeDaysLead {
			return "", Errorf(EINVALID, "notice_days", "Enter days from 1 to %d separated by commas, such as 30, 14, 7, 3, 1; or leave it empty for those.", MaxNoticeDaysLead)
		}
		if !slices.Contains(days, n) {
			days = append(days, n)
		}
	}
	if len(days) > MaxNoticeDays {
		return "", Errorf(EINVALID, "notice_days", "Enter at most %d days.", MaxNoticeDays)
	}
	return NoticeDaysText(days), nil
}

// NoticeDaysText writes days furthest first, separated by commas.
func NoticeDaysText(days []int) string {
	days = slices.Clone(days)
	slices.Sort(days)
	slices.Reverse(days)
	parts := make([]string, len(days))
	for i, d := range days {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, ",")
}

// NoticeSchedule is the days before expiry that notices go out under the
// policy.
func (p Policy) NoticeSchedule() []int {
	if p.NoticeDays == "" {
		return DefaultNoticeDays
	}
	var days []int
	for _, f := range strings.Split(p.NoticeDays, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			days = append(days, n)
		}
	}
	return days
}
