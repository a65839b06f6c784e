import { describe, expect, it } from '@jest/globals';
import { LOCAL_SERVICE_NAME, loadObservabilityConfig } from '../../shared/config.ts';
import { webhookOutcomeClass } from '../../shared/metrics.ts';

describe('loadObservabilityConfig', () => {
  it('reads LOG_LEVEL in any case, as Powertools wants it', () => {
    expect(loadObservabilityConfig({ LOG_LEVEL: 'warn' }).logLevel).toBe('WARN');
    expect(loadObservabilityConfig({ LOG_LEVEL: ' Debug ' }).logLevel).toBe('DEBUG');
    expect(loadObservabilityConfig({ LOG_LEVEL: 'silent' }).logLevel).toBe('SILENT');
  });

  it('logs at INFO when LOG_LEVEL is unset or unknown, rather than stopping the function', () => {
    expect(loadObservabilityConfig({}).logLevel).toBe('INFO');
    expect(loadObservabilityConfig({ LOG_LEVEL: 'verbose' }).logLevel).toBe('INFO');
  });

  it('names the service after POWERTOOLS_SERVICE_NAME, the function the stack set it for', () => {
    expect(loadObservabilityConfig({ POWERTOOLS_SERVICE_NAME: 'billing' }).serviceName).toBe('billing');
    expect(loadObservabilityConfig({}).serviceName).toBe(LOCAL_SERVICE_NAME);
  });
});

describe('webhookOutcomeClass', () => {
  it('counts created and unchanged deliveries as applied: verified, recorded, acted on', () => {
    expect(webhookOutcomeClass('applied')).toBe('applied');
    expect(webhookOutcomeClass('created')).toBe('applied');
    expect(webhookOutcomeClass('unchanged')).toBe('applied');
  });

  it('keeps duplicates and ignored deliveries apart', () => {
    expect(webhookOutcomeClass('duplicate')).toBe('duplicate');
    expect(webhookOutcomeClass('ignored')).toBe('ignored');
  });
});
