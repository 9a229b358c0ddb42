package kube

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// PortForward forwards a local port on 127.0.0.1 (chosen by the kernel) to
// remotePort of Pod ns/pod through the API server, as kubectl port-forward
// does (SPDY). It returns once the listener is ready; stop closes it (and
// cancelling ctx does too). Used to reach Bolt from outside the cluster.
func (c *Client) PortForward(ctx context.Context, ns, pod string, remotePort int) (localAddr string, stop func(), err error) {
	localAddr, _, stop, err = c.PortForwardWatched(ctx, ns, pod, remotePort)
	return localAddr, stop, err
}

// PortForwardWatched is PortForward, with done closed once the forward has
// ended on its own: client-go ends a port-forward whose stream to the Pod
// failed (a connection reset by the server end) and closes its listener,
// so a caller that keeps the local address must open a new one then.
func (c *Client) PortForwardWatched(ctx context.Context, ns, pod string, remotePort int) (localAddr string, done <-chan struct{}, stop func(), err error) {
	transport, upgrader, err := spdy.RoundTripperFor(c.config)
	if err != nil {
		return "", nil, nil, fmt.Errorf("port-forward to %s/%s: %w", ns, pod, err)
	}
	url := c.core.RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)

	stopCh := make(chan struct{})
	readyCh := make(chan struct{})
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(remotePort)}, stopCh, readyCh, io.Discard, io.Discard)
	if err != nil {
		return "", nil, nil, fmt.Errorf("port-forward to %s/%s: %w", ns, pod, err)
	}
	var fwdErr error
	ended := make(chan struct{})
	go func() {
		fwdErr = pf.ForwardPorts()
		close(ended)
	}()

	var once sync.Once
	// stop returns once the local listener is closed, so a caller that
	// stops and re-forwards never races the old listener.
	closeStop := func() { once.Do(func() { close(stopCh) }) }
	stop = func() {
		closeStop()
		<-ended
	}
	select {
	case <-readyCh:
	case <-ended:
		return "", nil, nil, fmt.Errorf("port-forward to %s/%s port %d: %w", ns, pod, remotePort, fwdErr)
	case <-ctx.Done():
		// Not stop(): the dial may still be in flight; the forwarder ends
		// on its own once it sees stopCh.
		closeStop()
		return "", nil, nil, ctx.Err()
	}
	ports, err := pf.GetPorts()
	if err != nil || len(ports) == 0 {
		stop()
		return "", nil, nil, fmt.Errorf("port-forward to %s/%s: no local port: %v", ns, pod, err)
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-ended:
		}
	}()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local))), ended, stop, nil
}
