/**
 * @holdfast/domain/testing — test tools shared by every package's tests and
 * the simulator. Nothing here is reachable from the package's root export.
 */
export { MANUAL_CLOCK_START, ManualClock, settle } from './manual-clock.js';
