// The compact store through the shared store suite, unlimited and with a MaxMemory too large to
// evict (so the eviction bookkeeping runs on every path without changing results).

import { CompactStore } from "../../src/store/compact-store.ts";
import { storeConformance } from "./conformance.ts";
import { storeProperties } from "./properties.ts";

storeConformance("CompactStore", (clock) => new CompactStore(clock));
storeProperties("CompactStore", (clock) => new CompactStore(clock, { seed: 42 }));
storeConformance("CompactStore with MaxMemory", (clock) => new CompactStore(clock, { maxMemory: 1 << 30 }));
