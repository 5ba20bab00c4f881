// Delegated zones' challenge values in the store (engine/zones.ts): what one
// engine writes, another engine on the same store answers; a value taken away
// is no longer answered; one a killed run left behind stops being answered
// after its lifetime and is removed at the next write.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engineOn, type Engine } from '../../src/engine/engine.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { storedChallengeAnswers, storedChallengeValues } from '../../src/engine/zones.ts';
import { createDelegatedProvider, delegationTarget } from '../../src/dns/providers/delegated/delegated.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { manualClock } from '../rig/clock.ts';
import { tempDir } from '../rig/tmp.ts';

const ZONE = 'acme.values.test';
const DAY = 86_400_000;

describe('delegated challenge values in the store', () => {
  const clock = manualClock();
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let store: Store;
  let writer: Engine;
  let reader: Engine;
  let subscriptionId: string;

  before(async () => {
    dir = await tempDir('certkeep-delegated-');
    store = await openStore({ dataDir: dir.path });
    writer = engineOn(store, { answers: 'server', clock });
    reader = engineOn(store, { answers: 'server', clock });
    subscriptionId = (await createSubscription(writer, 'delegating')).id;
  });
  after(async () => {
    await writer?.close();
    await reader?.close();
    await store?.close();
    await dir?.remove();
  });

  const rows = async () =>
    (await store.db.selectFrom('delegated_challenge_values').selectAll().execute()).length;

  test('one engine presents, another answers (any case, trailing dot); cleanup takes exactly that value away', async () => {
    const provider = createDelegatedProvider(storedChallengeValues(writer, subscriptionId), ZONE);
    const { target } = delegationTarget('www.example.test', ZONE);
    const answers = storedChallengeAnswers(reader);
    await provider.present({ fqdn: '_acme-challenge.www.example.test', value: 'apex' });
    await provider.present({ fqdn: '_acme-challenge.www.example.test', value: 'wildcard' });
    await provider.present({ fqdn: '_acme-challenge.www.example.test', value: 'apex' }); // a resumed order presents again
    assert.deepEqual((await answers.txtValues(`${target.toUpperCase()}.`)).sort(), ['apex', 'wildcard']);
    await provider.cleanup({ fqdn: '_acme-challenge.www.example.test', value: 'apex' });
    assert.deepEqual(await answers.txtValues(target), ['wildcard']);
    await provider.cleanup({ fqdn: '_acme-challenge.www.example.test', value: 'wildcard' });
    assert.deepEqual(await answers.txtValues(target), []);
    assert.equal(await rows(), 0);
  });

  test('a value a killed run left behind: answered for a week, then not, and removed at the next write', async () => {
    const values = storedChallengeValues(writer, subscriptionId);
    await values.add(`left.${ZONE}`, 'left behind');
    clock.advance(7 * DAY);
    assert.deepEqual(await storedChallengeAnswers(reader).txtValues(`left.${ZONE}`), ['left behind']);
    clock.advance(2 * DAY);
    assert.deepEqual(await storedChallengeAnswers(reader).txtValues(`left.${ZONE}`), []);
    await values.add(`new.${ZONE}`, 'fresh');
    assert.equal(await rows(), 1, 'the stale value is gone');
  });

  test('a name outside the delegation zone and not an _acme-challenge name is refused, nothing stored', async () => {
    const provider = createDelegatedProvider(storedChallengeValues(writer, subscriptionId), ZONE);
    const before = await rows();
    await assert.rejects(
      provider.present({ fqdn: 'www.example.test', value: 'x' }),
      /not an _acme-challenge name and not under acme\.values\.test/,
    );
    assert.equal(await rows(), before);
  });
});
