package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// StateFile is the name of the file, next to the kubeconfig, that records a
// running environment so other processes can use it (Attach) and stop it.
const StateFile = "state.json"

// state is the JSON form of an Env in StateFile.
type state struct {
	Dir          string       `json:"dir"`
	Kubeconfig   string       `json:"kubeconfig"`
	Host         string       `json:"host"`
	CAFile       string       `json:"caFile"`
	AuditLogPath string       `json:"auditLogPath"`
	Nodes        []string     `json:"nodes"`
	BinDir       string       `json:"binDir"`
	OwnsDir      bool         `json:"ownsDir"`
	Detached     bool         `json:"detached"`
	Processes    []*component `json:"processes"`
}

// writeState records the environment in Dir/state.json, atomically so a
// reader never sees half a file.
func (e *Env) writeState() error {
	e.mu.Lock()
	s := state{
		Dir: e.Dir, Kubeconfig: e.Kubeconfig, Host: e.Host, CAFile: e.CAFile,
		AuditLogPath: e.AuditLogPath, Nodes: e.Nodes, BinDir: e.BinDir,
		OwnsDir: e.ownsDir, Detached: e.detached, Processes: e.procs,
	}
	b, err := json.MarshalIndent(s, "", "  ")
	e.mu.Unlock()
	if err != nil {
		return err
	}
	tmp := filepath.Join(e.Dir, StateFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(e.Dir, StateFile))
}

// Attach returns the environment whose admin kubeconfig is at kubeconfig,
// started by another process (`testenv up`). With the state file next to
// it, the Env knows its processes (Stop and RestartAPIServer work) and its
// audit log; without one, only the kubeconfig is used and the node names
// are read from the API. Stop on an attached Env stops the components but
// never removes a directory it did not create.
func Attach(kubeconfig string) (*Env, error) {
	kubeconfig, err := filepath.Abs(kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("testenv: attach %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	e := &Env{Dir: filepath.Dir(kubeconfig), Kubeconfig: kubeconfig, Host: cfg.Host, CA: cfg.CAData, cfg: cfg}
	b, err := os.ReadFile(filepath.Join(e.Dir, StateFile))
	switch {
	case err == nil:
		var s state
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("testenv: %s: %w", StateFile, err)
		}
		e.CAFile, e.AuditLogPath, e.Nodes, e.BinDir = s.CAFile, s.AuditLogPath, s.Nodes, s.BinDir
		e.procs, e.detached = s.Processes, true
		if len(e.CA) == 0 && e.CAFile != "" {
			e.CA, _ = os.ReadFile(e.CAFile)
		}
	case os.IsNotExist(err):
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		nodes, err := cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("testenv: attach %s: %w", kubeconfig, err)
		}
		for _, n := range nodes.Items {
			if n.Annotations[kwokNodeAnnotation] == "fake" {
				e.Nodes = append(e.Nodes, n.Name)
			}
		}
		sort.Strings(e.Nodes)
	default:
		return nil, err
	}
	return e, nil
}
