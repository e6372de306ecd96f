// Integration tests wait on a real broker; each test still bounds its own waits with waitFor.
jest.setTimeout(180_000);
