// Package drift reports out-of-band changes to what neo4jctl renders, in
// both planes, with compliance policies and an audit log. It is read-only by
// construction: it never imports package apply.
package drift
