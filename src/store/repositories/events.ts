import type { Db } from './db.ts';

export interface NewEvent {
  subscriptionId: string;
  certificateId: string | null;
  type: string;
  payload: Record<string, unknown>;
}

export async function appendEvent(db: Db, event: NewEvent, now: number): Promise<void> {
  await db
    .insertInto('events')
    .values({
      subscription_id: event.subscriptionId,
      certificate_id: event.certificateId,
      type: event.type,
      payload: JSON.stringify(event.payload),
      created_at: now,
      acked_at: null,
    })
    .execute();
}
