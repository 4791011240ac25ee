package report

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// blocks are the elements a skeleton line is made of.
var blocks = []string{"title", "h1", "h2", "p", "tr", "figcaption", "summary"}

// Skeleton reduces a rendered report to its structure: one line per
// heading, paragraph, table row, caption and transcript, with its id and
// text, leaving out what changes from run to run (elements of class "v":
// numbers, dates, versions, notes, plots, transcripts). Two runs of the
// same build give the same skeleton; a test compares it with a golden file.
func Skeleton(page []byte) (string, error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "", fmt.Errorf("report: parsing the page: %w", err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if volatile(n) || n.Data == "style" || n.Data == "svg" {
				return
			}
			if slices.Contains(blocks, n.Data) {
				line := n.Data
				if id := attr(n, "id"); id != "" {
					line += "#" + id
				}
				fmt.Fprintf(&b, "%s: %s\n", line, text(n))
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String(), nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func volatile(n *html.Node) bool {
	return slices.Contains(strings.Fields(attr(n, "class")), "v")
}

// text is n's text without volatile parts; table cells are separated by
// " | " and runs of white space are one space.
func text(n *html.Node) string {
	var parts []string
	var cur strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			cur.WriteString(n.Data)
		case n.Type == html.ElementNode && (volatile(n) || n.Data == "svg"):
			return
		case n.Type == html.ElementNode && (n.Data == "td" || n.Data == "th"):
			cur.Reset()
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
			parts = append(parts, strings.Join(strings.Fields(cur.String()), " "))
			cur.Reset()
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	if len(parts) > 0 {
		return strings.Join(parts, " | ")
	}
	return strings.Join(strings.Fields(cur.String()), " ")
}
