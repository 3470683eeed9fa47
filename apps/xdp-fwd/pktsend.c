/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pktsend: the sender of xdp-fwd's benchmark. Sends UDP frames of a given size (Ethernet header
 * included, 60 to 1514 bytes) out of an interface through a raw packet socket, in bursts of 64
 * with sendmmsg and past the qdisc, for a number of seconds; prints the frames sent.
 * Usage: pktsend IF DST-MAC SIZE SECONDS
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 64

static uint16_t csum(const void *p, size_t n)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; n > 1; n -= 2)
		s += *w++;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int main(int argc, char **argv)
{
	static unsigned char frame[1514];
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};
	struct ether_header *eth = (struct ether_header *)frame;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	struct mmsghdr msgs[BURST];
	struct iovec iov = {frame, 0};
	unsigned long sent = 0;
	struct timespec t0, t;
	struct ifreq ifr = {0};
	int fd, one = 1, i;
	unsigned size;
	double secs;

	if (argc != 5 || (size = (unsigned)atoi(argv[3])) < 60 || size > 1514 ||
	    sscanf(argv[2], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &eth->ether_dhost[0],
		   &eth->ether_dhost[1], &eth->ether_dhost[2], &eth->ether_dhost[3],
		   &eth->ether_dhost[4], &eth->ether_dhost[5]) != 6) {
		fprintf(stderr, "usage: pktsend IF DST-MAC SIZE(60-1514) SECONDS\n");
		return 2;
	}
	secs = atof(argv[4]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		perror("pktsend: socket or interface");
		return 1;
	}
	memcpy(eth->ether_shost, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	eth->ether_type = htons(ETHERTYPE_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)(size - sizeof(*eth)));
	ip->saddr = inet_addr("10.99.0.1");
	ip->daddr = inet_addr("10.99.0.2");
	ip->check = csum(ip, sizeof(*ip));
	udp->source = htons(9);
	udp->dest = htons(9);
	udp->len = htons((uint16_t)(size - sizeof(*eth) - sizeof(*ip)));
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("pktsend: bind");
		return 1;
	}
	iov.iov_len = size;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BURST; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int n = sendmmsg(fd, msgs, BURST, 0);

		sent += n > 0 ? (unsigned long)n : 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	printf("%lu\n", sent);
	return 0;
}
