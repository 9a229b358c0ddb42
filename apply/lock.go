package apply

import (
	"fmt"
	"os"
	"os/user"
)

// Holder is the identity an apply holds the cluster's Lease as,
// "user@host pid N", so a second apply refused by the lock can say who to
// ask.
func Holder() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	} else if v := os.Getenv("USER"); v != "" {
		name = v
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s@%s pid %d", name, host, os.Getpid())
}
