/** Messages as /api/v1/messages shows them (docs/api.md §5.9). */

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

export type MessageListItem = {
  id: string;
  event_type: string;
  created_at: string;
  source: string;
  delivery_summary: Record<DeliveryStatus, number>;
};

export type Delivery = {
  id: string;
  endpoint_id: string;
  status: DeliveryStatus;
  attempts: number;
  manual: boolean;
  next_attempt_at: string | null;
  last_response_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
  updated_at: string;
};

export type Message = {
  id: string;
  event_type: string;
  created_at: string;
  source: string;
  payload: unknown;
  deliveries: Delivery[];
};

export type Attempt = {
  id: string;
  endpoint_id: string;
  status: 'succeeded' | 'failed';
  response_status: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
  manual: boolean;
  created_at: string;
};

export const STATUS_ORDER: DeliveryStatus[] = ['delivered', 'pending', 'failed', 'cancelled'];
