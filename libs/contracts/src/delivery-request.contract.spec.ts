import { deliveryIdOf } from './delivery-request.contract';

describe('deliveryIdOf', () => {
  it('gives the ids it has always given: receivers de-duplicate on them across releases', () => {
    // Computed with the first implementation (a sha256 Hash object over the three ids).
    expect(deliveryIdOf('org_1', 'evt_1', 'sub_1')).toBe('del_JWBIOjMFp2hUkrwuvFmZ55Eih9');
    expect(deliveryIdOf('org_ünï', 'evt ✈ 42', 'sub_01JD3X9Q6Z8Y7W5V4T3S2R1P0N')).toBe(
      'del_YYeHJbjL5btyMOhBGh8mJFQqqJ',
    );
  });

  it('separates the parts, so shifting a character between them changes the id', () => {
    expect(deliveryIdOf('org_1', 'evt_1', 'sub_1')).not.toBe(deliveryIdOf('org_1', 'evt_', '1sub_1'));
  });
});
