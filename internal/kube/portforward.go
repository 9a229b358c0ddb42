package kube

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// PortForward forwards a local port on 127.0.0.1 (chosen by the kernel) to
// remotePort of Pod ns/pod through the API server, as kubectl port-forward
// does (SPDY). It returns once the listener is ready; stop closes it (and
// cancelling ctx does too). Used to reach Bolt from outside the cluster.
func (c *Client) PortForward(ctx context.Context, ns, pod string, remotePort int) (localAddr string, stop func(), err error) {
	transport, upgrader, err := spdy.RoundTripperFor(c.config)
	if err != nil {
		return "", nil, fmt.Errorf("port-forward to %s/%s: %w", ns, pod, err)
	}
	url := c.core.RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)

	stopCh := make(chan struct{})
	readyCh := make(chan struct{})
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(remotePort)}, stopCh, readyCh, io.Discard, io.Discard)
	if err != nil {
		return "", nil, fmt.Errorf("port-forward to %s/%s: %w", ns, pod, err)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- pf.ForwardPorts() }()

	stopped := make(chan struct{})
	stop = func() {
		select {
		case <-stopped:
		default:
			close(stopped)
			close(stopCh)
		}
	}
	select {
	case <-readyCh:
	case err := <-errCh:
		stop()
		return "", nil, fmt.Errorf("port-forward to %s/%s port %d: %w", ns, pod, remotePort, err)
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
	ports, err := pf.GetPorts()
	if err != nil || len(ports) == 0 {
		stop()
		return "", nil, fmt.Errorf("port-forward to %s/%s: no local port: %v", ns, pod, err)
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-stopped:
		}
	}()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local))), stop, nil
}
