// Forked once per /api/randoms request by reference-server.js.
process.once('message', (cant) => {
  const counts = {};
  for (let i = 0; i < cant; i++) {
    const n = Math.floor(Math.random() * 1000) + 1;
    counts[n] = (counts[n] || 0) + 1;
  }
  // Exit only once the message has been handed to the IPC channel.
  process.send(counts, () => process.exit(0));
});
