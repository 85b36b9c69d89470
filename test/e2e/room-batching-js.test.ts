// room-batching.test.ts with the room's flushes written from the event loop (room.nativeFanout
// false): the path of a machine without the addon.
process.env.SHOWCASE_TEST_ROOM_FANOUT = 'js';
await import('./room-batching.test.js');
