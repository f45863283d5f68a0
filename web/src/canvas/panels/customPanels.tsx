/**
 * The UI's own panels, by the name a catalog entry gives in `panel`; every other node type's panel
 * is the form its entry's fields describe (NodeForm). A panel may also name the values templates
 * elsewhere in the flow can use.
 */
import type React from 'react';
import type { Api } from '../../api.ts';
import type { Config } from '../document.ts';
import type { CredentialSummary, PresetInfo } from './ProviderSection.tsx';
import { SchedulePanel } from './SchedulePanel.tsx';
import { WebhookPanel } from './WebhookPanel.tsx';

export type CustomPanelProps = {
  api: Api;
  flowId: string;
  nodeId: string;
  /** The node as last saved. */
  saved: boolean;
  url: string | undefined;
  config: Config;
  onChange: (c: Config) => void;
  credentials: CredentialSummary[];
  presets: PresetInfo[];
  onCredentialCreated: (c: CredentialSummary) => void;
};

export type CustomPanel = {
  Panel: (p: CustomPanelProps) => React.JSX.Element;
  /** Template hints the node's config offers the rest of the flow. */
  hints?: (config: Config) => string[];
};

const SOURCE = { body: 'Body', query: 'Query', headers: 'Headers' } as const;

export const CUSTOM_PANELS: Record<string, CustomPanel> = {
  webhook: {
    Panel: WebhookPanel,
    // The trigger's parameters: `${Webhook::Body.order.id}`, `${Webhook::Query.shop}`, …
    hints: (config) =>
      (Array.isArray(config.parameters) ? (config.parameters as { source: string; path: string }[]) : [])
        .filter((p) => p.path)
        .map(
          (p) =>
            `\${Webhook::${SOURCE[p.source as keyof typeof SOURCE] ?? 'Body'}${p.path.startsWith('[') ? '' : '.'}${p.path}}`,
        ),
  },
  schedule: {
    Panel: SchedulePanel,
    // The tick a schedule's run started from.
    hints: () => ['${Schedule.time}', '${Schedule.cron}'],
  },
};
