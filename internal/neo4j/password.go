package neo4j

import (
	"context"

	driver "github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// alterCurrentUserPassword is how the Operations Manual has a user change
// its own password: an administration command run against the system
// database, old and new password as string parameters, so neither is ever
// part of the statement text (authentication-authorization/manage-users.adoc
// § Changing the current user's password; "either or both can be a string
// value or a string parameter"; required privilege: none).
const alterCurrentUserPassword = "ALTER CURRENT USER SET PASSWORD FROM $old TO $new"

// ChangeOwnPassword changes the logged-in user's password from old to
// next. It is sent once, never retried: a second attempt after a first
// that took effect fails on the old password, so after any error the
// caller learns the outcome by logging in (which password works).
// Errors never hold either password.
func (c *Client) ChangeOwnPassword(ctx context.Context, old, next string) error {
	wctx, cancel := c.writeDeadline(ctx)
	defer cancel()
	d, err := c.driverFor(wctx, true)
	if err == nil {
		sess := d.NewSession(wctx, driver.SessionConfig{DatabaseName: systemDB, AccessMode: driver.AccessModeWrite, BookmarkManager: c.bookmarks})
		defer func() { _ = sess.Close(context.WithoutCancel(ctx)) }()
		var res driver.ResultWithContext
		if res, err = sess.Run(wctx, alterCurrentUserPassword, map[string]any{"old": old, "new": next}); err == nil {
			_, err = res.Consume(wctx)
		}
	}
	if err != nil {
		e := redactor(next).error(redactor(old).error(c.fail("ALTER CURRENT USER SET PASSWORD", err)))
		return c.timedOut(ctx, wctx, e)
	}
	return nil
}
