// vmshift-vcsim: govmomi's vSphere simulator as a standalone TLS server for the vmshift.virt lab.
//
// Debian ships govmomi's simulator package but no vcsim binary; this is the small main that
// serves it. Built by tests/lab/lab.sh with Debian's golang-go in GOPATH mode.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("l", "127.0.0.1:8989", "listen address (host:port)")
	dc := flag.Int("dc", 1, "datacenters")
	cluster := flag.Int("cluster", 1, "clusters per datacenter")
	hosts := flag.Int("host", 2, "hosts per cluster")
	standalone := flag.Int("standalone-host", 1, "standalone hosts per datacenter")
	vms := flag.Int("vm", 2, "VMs per resource pool")
	ds := flag.Int("ds", 1, "datastores")
	pg := flag.Int("pg", 1, "distributed port groups per datacenter")
	pool := flag.Int("pool", 0, "child resource pools per cluster")
	folder := flag.Int("folder", 0, "folders per datacenter")
	user := flag.String("username", "administrator@vsphere.local", "login user")
	password := flag.String("password", "", "login password (or VCSIM_PASSWORD)")
	cert := flag.String("tls-cert", "", "PEM certificate for TLS")
	key := flag.String("tls-key", "", "PEM key for TLS")
	urlFile := flag.String("url-file", "", "write the SDK URL here once serving")
	flag.Parse()

	if *password == "" {
		*password = os.Getenv("VCSIM_PASSWORD")
	}
	if *password == "" {
		log.Fatal("a password is required: -password or VCSIM_PASSWORD")
	}

	model := simulator.VPX()
	model.Datacenter = *dc
	model.Cluster = *cluster
	model.ClusterHost = *hosts
	model.Host = *standalone
	model.Machine = *vms
	model.Datastore = *ds
	model.Portgroup = *pg
	model.Pool = *pool
	model.Folder = *folder
	// Keep VMs powered on as a real estate mostly is.
	model.Autostart = true

	if err := model.Create(); err != nil {
		log.Fatalf("create model: %s", err)
	}
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, *password)}
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			log.Fatalf("load TLS key pair: %s", err)
		}
		model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	s := model.Service.NewServer()
	u := *s.URL
	u.User = nil
	log.Printf("vmshift-vcsim serving %s (dc=%d cluster=%d host=%d vm=%d)", u.String(), *dc, *cluster, *hosts, *vms)
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(u.String()+"\n"), 0o644); err != nil {
			log.Fatalf("write url file: %s", err)
		}
	}
	fmt.Println(u.String())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	model.Remove()
	s.Close()
}
