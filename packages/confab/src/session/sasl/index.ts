/**
 * SASL for confab (RFC 4422, RFC 6120 6): the mechanisms, the policy that picks one, and the
 * mapping of failures to typed errors. Network-free: the session's negotiation drives them.
 * See select.ts for the policy, scram.ts for SCRAM(-PLUS), errors.ts for failures.
 */
export { createAnonymous } from './anonymous.ts';
export { isRetryableAuthFailure, NS_SASL, saslFailureError, scramServerError } from './errors.ts';
export { createPlain } from './plain.ts';
export {
  createScram,
  deriveScramKeys,
  escapeSaslname,
  gs2CbindFlag,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  type ScramHash,
  ScramKeyCache,
  type ScramKeys,
  type ScramOptions,
  saslprep,
  scramMechanismName,
} from './scram.ts';
export {
  agreeChannelBinding,
  type BindingAgreement,
  type ChooseMechanismOptions,
  chooseMechanism,
  type MechanismChoice,
  mechanismStrength,
  NS_SASL_CB,
  parseChannelBindings,
  parseMechanisms,
  SUPPORTED_MECHANISMS,
  type TlsState,
} from './select.ts';
export type { SaslContext, SaslCredentials, SaslMechanism, SaslMechanismFactory } from './types.ts';
