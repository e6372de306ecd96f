import { newClusterId } from '../../src/kafka-node';

describe('newClusterId', () => {
  it('is 22 base64url characters and never starts with "-" (the storage tool would read it as an option)', () => {
    for (let i = 0; i < 2000; i++) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
