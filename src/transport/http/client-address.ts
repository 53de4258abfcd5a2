// The client address of an HTTP request, from the socket (never from headers, which the client
// writes): the server records it per request before Elysia routes it.

import type { Server } from "bun";

const addresses = new WeakMap<Request, string>();

/** Requests handed to the app without a socket (app.handle in tests) get this address. */
export const NO_SOCKET_ADDRESS = "local";

export function socketAddress(request: Request, server: Server<unknown>): string {
  return server.requestIP(request)?.address ?? NO_SOCKET_ADDRESS;
}

export function rememberClientAddress(request: Request, address: string): void {
  addresses.set(request, address);
}

export function clientAddress(request: Request): string {
  return addresses.get(request) ?? NO_SOCKET_ADDRESS;
}
