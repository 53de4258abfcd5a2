// The Map store (the oracle) through the shared store suite.

import { MapStore } from "../../src/store/map-store.ts";
import { storeConformance } from "./conformance.ts";
import { storeProperties } from "./properties.ts";

storeConformance("MapStore", (clock) => new MapStore(clock));
storeProperties("MapStore", (clock) => new MapStore(clock));
