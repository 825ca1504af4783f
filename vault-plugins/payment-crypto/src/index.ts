// Payment cryptography primitives on node:crypto. Every function takes and returns uppercase hex
// or digit strings (lowercase hex accepted) and throws PaymentCryptoError with a stable code.
export { PaymentCryptoError, isPaymentCryptoError, type PaymentCryptoErrorCode } from './errors.js'
export { luhnCheckDigit, isLuhnValid } from './luhn.js'
export { kcv, type KcvOptions } from './kcv.js'
export { retailMac, cmac, type RetailMacInput, type CmacInput, type MacPadding } from './mac.js'
export { cvv, verifyCvv, cvc3, verifyCvc3, createCvvContext, type CvvInput, type Cvc3Input, type CvvContext } from './card-verification.js'
export {
  pvv,
  verifyPvv,
  ibm3624Offset,
  ibm3624Pin,
  verifyIbm3624,
  createPvvContext,
  type PvvContext,
  DEFAULT_DECIMALIZATION_TABLE,
  type PvvInput,
  type Ibm3624Options,
} from './pin-verification.js'
export {
  encodePinBlock,
  decodePinBlock,
  encryptPinBlock,
  decryptPinBlock,
  translatePinBlock,
  pinBlockPanField4,
  type PinBlockFormat,
  type EncodePinBlockInput,
  type DecodePinBlockInput,
  type EncryptPinBlockInput,
  type DecryptPinBlockInput,
  type TranslatePinBlockInput,
} from './pin-block.js'
export { iccMasterKey, sessionKey, type IccMasterKeyInput, type IccDerivationOption, type SessionKeyInput } from './emv-keys.js'
export { applicationCryptogram, verifyArqc, arpc, type ApplicationCryptogramInput, type ArpcInput } from './emv-cryptogram.js'
export {
  verifyArqcProfile,
  generateArqcProfile,
  createArqcContext,
  type ArqcContext,
  cryptogramData,
  COMMON_AC_TAGS,
  ARQC_PROFILES,
  type ArqcProfile,
  type CryptogramTags,
  type VerifyArqcProfileInput,
  type VerifyArqcProfileResult,
} from './emv-profiles.js'
export { tr31Wrap, tr31Unwrap, TR31_KEY_USAGES, type Tr31WrapInput, type Tr31UnwrapResult, type Tr31Header, type Tr31OptionalBlock, type Tr31Version } from './tr31.js'
