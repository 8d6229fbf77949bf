// peer.h — sje-bench's peers: a bare nng req/rep round trip (the floor
// every RPC of SJE pays) and beanstalkd, a C job queue, driven with the
// same workload shapes as SJE (peer.c).
#ifndef SJE_BENCH_PEER_H
#define SJE_BENCH_PEER_H

// bench_peer_main runs the modes nng-echo, nng-floor, bs-worker, bs-w1,
// bs-w2 and bs-w1p; argv as sje-bench's.
int bench_peer_main(int argc, char **argv);

// From bench.c.
double bench_now_s(void);
int    bench_cmp_double(const void *a, const void *b);

#endif // SJE_BENCH_PEER_H
